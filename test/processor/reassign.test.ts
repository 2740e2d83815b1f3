/**
 * Cooperative rebalancing in one TopicProcessor on the real broker: members of a real consumer group
 * (GroupMember), a processor that keeps some partitions through a rebalance, releases others after
 * committing them and gains new ones; and a commit that meets the next generation waits for it.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, type KasperError } from '../../src/errors.js'
import { createCluster } from '../../src/kafka/cluster.js'
import { GenerationCell } from '../../src/kafka/generation.js'
import { type GroupGeneration, GroupMember } from '../../src/kafka/group-member.js'
import { GroupOffsets } from '../../src/kafka/offsets.js'
import { tpKey } from '../../src/kafka/topic-partitions.js'
import { silentLogger } from '../../src/logging/logger.js'
import { TopicProcessor } from '../../src/processor/topic-processor.js'
import {
  brokers,
  committedOffsets,
  createKafka,
  createTopics,
  endOffsets,
  produce,
  uniqueName,
  waitFor,
} from '../helpers/kafka.js'
import { RecordingProcessor, start } from '../helpers/processor.js'

const PARTITIONS = 4
const gen = ({ generationId, memberId }: GroupGeneration) => ({ generationId, memberId })
const all = Array.from({ length: PARTITIONS }, (_, p) => p)

function member(groupId: string, topic: string): GroupMember {
  return GroupMember.create(
    { brokers: brokers() },
    {
      groupId,
      topics: [topic],
      partitions: all,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 20_000,
      heartbeatIntervalMs: 500,
      unavailableTimeoutMs: 20_000,
      logger: silentLogger,
    },
  )
}

async function setUp() {
  const kafka = createKafka()
  const name = uniqueName('reassign')
  const topic = `${name}-in`
  await createTopics(kafka, [topic], PARTITIONS)
  let sent = 0
  const wave = async (perPartition: number) => {
    const messages = all.flatMap((partition) =>
      Array.from({ length: perPartition }, () => ({ key: `k${sent}`, value: `v${sent++}`, partition })),
    )
    await produce(kafka, topic, messages)
  }
  const groupId = `kasper-topic-processor-${name}`
  const allCommitted = async () => {
    const [committed, ends] = await Promise.all([committedOffsets(kafka, groupId, topic), endOffsets(kafka, topic)])
    return all.every((p) => Number(committed.get(p) ?? 0) === ends.get(p)) || undefined
  }
  return { kafka, name, topic, groupId, wave, allCommitted, sent: () => sent }
}

describe('TopicProcessor.reassign (cooperative rebalancing) on the real broker', () => {
  it('keeps running what stays, releases what goes after committing it, starts what comes: every message once', async () => {
    const { kafka, name, topic, groupId, wave, allCommitted, sent } = await setUp()
    const a = member(groupId, topic)
    const b = member(groupId, topic)
    await Promise.all([a.connect(), b.connect()])
    const recordA = new RecordingProcessor()
    const recordB = new RecordingProcessor()
    try {
      const g1 = await a.join()
      expect(g1.partitions).toEqual(all)
      let watchA = a.watch()
      /** A member's processor over its generation's partitions. */
      const run = (g: GroupGeneration, record: RecordingProcessor) =>
        start(
          {
            kafka,
            topicProcessorName: name,
            inputTopics: [topic],
            inputPartitions: g.partitions,
            groupGeneration: gen(g),
          },
          record,
        )
      const pa = run(g1, recordA)
      await pa.tp.ready()
      await wave(25)
      await waitFor(allCommitted, 30_000)

      // b joins; a hears of the rebalance and rejoins naming all four as its own: b gets nothing yet
      const joiningB = b.join()
      expect((await watchA.ended).reason).toBe('rebalance')
      watchA.stop()
      const g2 = await a.join(g1.partitions)
      const gb2 = await joiningB
      expect(gb2.generationId).toBe(g2.generationId)
      expect(g2.partitions).toEqual([0, 1])
      expect(gb2.partitions).toEqual([])
      // both are told a hand-over follows (they heartbeat faster until it comes)
      expect([g2.handoverPending, gb2.handoverPending]).toEqual([true, true])
      await wave(25)
      // a releases 2 and 3: their last batches commit under generation 2 first
      const moved = await pa.tp.reassign(gen(g2), g2.partitions)
      expect(moved).toEqual({ released: [2, 3], added: [] })

      // a rejoins at once with what it runs now; b hears of that rebalance at its next heartbeat and
      // rejoins too (as the daemons do); b gets the released partitions
      const watchB2 = b.watch()
      const joiningA3 = a.join(g2.partitions)
      expect((await watchB2.ended).reason).toBe('rebalance')
      watchB2.stop()
      const gb3 = await b.join()
      const g3 = await joiningA3
      expect(g3.partitions).toEqual([0, 1])
      expect(gb3.partitions).toEqual([2, 3])
      expect([g3.handoverPending, gb3.handoverPending]).toEqual([undefined, undefined])
      watchA = a.watch()
      const watchB = b.watch()
      await pa.tp.reassign(gen(g3), g3.partitions)
      const pb = run(gb3, recordB)
      await pb.tp.ready()
      await wave(25)
      await waitFor(allCommitted, 30_000)
      watchA.stop()
      watchB.stop()
      await Promise.all([pa.tp.close(), pb.tp.close()])
      expect(await pa.run).toBeUndefined()
      expect(await pb.run).toBeUndefined()

      const seen = [...recordA.messages, ...recordB.messages].map((m) => `${m.partition}:${m.offset}`)
      // every message once: the released partitions' batches were committed before b read them
      expect(seen.length).toBe(sent())
      expect(new Set(seen).size).toBe(sent())
      expect(recordB.messages.every((m) => m.partition >= 2)).toBe(true)
      // a ran partitions 0 and 1 through both rebalances: every wave of them came to a
      expect(recordA.messages.filter((m) => m.partition < 2)).toHaveLength(75 * 2)
    } finally {
      await Promise.allSettled([a.leave(), b.leave()])
      await Promise.allSettled([a.disconnect(), b.disconnect()])
    }
  })

  it('a commit that meets the next generation waits for it and is sent again with it; with none coming it is refused', async () => {
    const { kafka, topic, groupId } = await setUp()
    const a = member(groupId, topic)
    const b = member(groupId, topic)
    await Promise.all([a.connect(), b.connect()])
    const cluster = createCluster(kafka)
    await cluster.connect()
    try {
      const g1: GroupGeneration = await a.join()
      const watch = a.watch()
      const joiningB = b.join()
      await watch.ended
      watch.stop()
      const g2 = await a.join(g1.partitions)
      await joiningB
      // the group is at generation 2: a commit carrying generation 1 is refused (ILLEGAL_GENERATION)
      const cell = new GenerationCell(gen(g1))
      const offsets = new GroupOffsets(cluster, groupId, 20_000, cell)
      let settled = false
      const committing = offsets.commit([{ topic, partition: 0, offset: '0' }], 'a').finally(() => {
        settled = true
      })
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(settled).toBe(false)
      cell.set(gen(g2))
      await committing
      const stored = await offsets.fetchCommittedWithMetadata([{ topic, partition: 0 }])
      expect(stored.get(tpKey(topic, 0))).toEqual({ offset: '0', metadata: 'a' })

      // a member whose generation is over and that waits for no other: refused, typed, nothing committed
      const lost = new GenerationCell(gen(g1))
      lost.close()
      const refused = await new GroupOffsets(cluster, groupId, 20_000, lost)
        .commit([{ topic, partition: 1, offset: '0' }])
        .then(
          () => undefined,
          (error: unknown) => error as KasperError,
        )
      expect(refused?.code).toBe(ErrorCodes.ASSIGNMENT_LOST)
      expect((await offsets.fetchCommitted([{ topic, partition: 1 }])).size).toBe(0)
    } finally {
      await cluster.disconnect()
      await Promise.allSettled([a.leave(), b.leave()])
      await Promise.allSettled([a.disconnect(), b.disconnect()])
    }
  })

  it('bad calls get typed errors and change nothing: no group assignment, a bad partition list, a closed processor', async () => {
    const kafka = createKafka()
    const options = { kafka, topicProcessorName: 'reassign-bad', inputTopics: ['t'], inputPartitions: [0] }
    const g = { generationId: 1, memberId: 'm' }
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (error: KasperError) => error.code,
      )
    const staticTp = new TopicProcessor(options, () => new RecordingProcessor())
    expect(await code(staticTp.reassign(g, [0]))).toBe(ErrorCodes.CONFIG_INVALID)
    const groupTp = new TopicProcessor({ ...options, groupGeneration: g }, () => new RecordingProcessor())
    expect(await code(groupTp.reassign(g, [0, 0]))).toBe(ErrorCodes.CONFIG_INVALID)
    expect(await code(groupTp.reassign(g, [-1]))).toBe(ErrorCodes.CONFIG_INVALID)
    expect(await code(groupTp.reassign(g, [1.5]))).toBe(ErrorCodes.CONFIG_INVALID)
    // not running yet, then closed
    expect(await code(groupTp.reassign(g, [0]))).toBe(ErrorCodes.CLOSED)
    const run = groupTp.runLoop().catch(() => undefined)
    await groupTp.close()
    await run
    expect(await code(groupTp.reassign(g, [0]))).toBe(ErrorCodes.CLOSED)
  })
})
