/**
 * The reader's positions, against a fake cluster of several leaders: a position moves only with
 * records fetch() hands over, whatever fails where.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError } from '../../src/errors.js'
import { type FetchedRecords, FetchOffsetOutOfRange, PartitionReader } from '../../src/kafka/partition-reader.js'
import { connectionError, FakeCluster, protocolError } from './fake-cluster.js'

const options = { maxWaitMs: 10, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, unavailableTimeoutMs: 60_000 }
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
const offsets = (records: FetchedRecords[], topic: string, partition: number) =>
  records
    .filter((r) => r.topic === topic && r.partition === partition)
    .flatMap((r) => r.messages.slice().map((m) => Number(m.offset)))

/** Three partitions of topic `t`, led by brokers 1, 2 and 3, each holding offsets 0..n-1. */
function threeLeaders(n = 9) {
  const cluster = new FakeCluster()
  for (const p of [0, 1, 2]) cluster.addPartition('t', p, p + 1, range(0, n))
  const reader = new PartitionReader(
    cluster,
    [0, 1, 2].map((partition) => ({ topic: 't', partition, offset: '0' })),
    options,
  )
  return { cluster, reader }
}

describe('PartitionReader', () => {
  it('hands over what healthy leaders returned when another leader fails, and keeps the failed positions', async () => {
    const { cluster, reader } = threeLeaders()
    cluster.hooks.set(2, () => Promise.reject(connectionError()))
    const round = await reader.fetch()
    expect(offsets(round, 't', 0)).toEqual([0, 1, 2])
    expect(offsets(round, 't', 1)).toEqual([])
    expect(offsets(round, 't', 2)).toEqual([0, 1, 2])
    expect(reader.position('t', 0)).toBe('3')
    expect(reader.position('t', 1)).toBe('0')
    expect(reader.position('t', 2)).toBe('3')
    expect(cluster.refreshes).toBe(1)
  })

  it('resumes a failed partition from its position at its new leader after a metadata refresh', async () => {
    const { cluster, reader } = threeLeaders()
    cluster.moveLeader('t', 1, 3) // broker 2 stops leading: NOT_LEADER_OR_FOLLOWER until metadata is refreshed
    const first = await reader.fetch()
    expect(offsets(first, 't', 1)).toEqual([])
    expect(reader.position('t', 1)).toBe('0')
    const seen: FetchedRecords[] = [...first]
    while (reader.position('t', 1) !== '9' || reader.position('t', 0) !== '9') seen.push(...(await reader.fetch()))
    expect(offsets(seen, 't', 1)).toEqual(range(0, 9))
    expect(offsets(seen, 't', 0)).toEqual(range(0, 9))
  })

  it('waits for a slow leader: its answer is handed over in the same round, never after it', async () => {
    const { cluster, reader } = threeLeaders()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    cluster.hooks.set(3, async (_request, answer) => {
      await gate
      return answer()
    })
    const pending = reader.fetch()
    setTimeout(release, 30)
    const round = await pending
    expect(offsets(round, 't', 2)).toEqual([0, 1, 2])
    expect(reader.position('t', 2)).toBe('3')
  })

  it('ignores a response for a position that was moved by seek() while it was in flight', async () => {
    const { cluster, reader } = threeLeaders()
    cluster.hooks.set(1, (_request, answer) => {
      reader.seek('t', 0, '7')
      return answer()
    })
    const round = await reader.fetch()
    expect(offsets(round, 't', 0)).toEqual([])
    expect(reader.position('t', 0)).toBe('7')
    cluster.hooks.delete(1)
    expect(offsets(await reader.fetch([{ topic: 't', partition: 0 }]), 't', 0)).toEqual([7, 8])
  })

  it('steps over a compacted gap: a response holding only records below the fetch offset moves the position', async () => {
    const cluster = new FakeCluster()
    cluster.addPartition('c', 0, 1, [0, 1, 2, 3, 9, 10])
    // the broker returns the whole record batch [0..5] for fetch offset 4; offsets 4 and 5 were compacted away
    cluster.hooks.set(1, (request, answer) => {
      const fetchOffset = Number(request.topics[0]?.partitions[0]?.fetchOffset)
      if (fetchOffset !== 4 && fetchOffset !== 5) return answer()
      return {
        responses: [
          {
            topicName: 'c',
            partitions: [
              {
                partition: 0,
                errorCode: 0,
                highWatermark: '11',
                messages: [0, 1, 2, 3].map((o) => ({
                  offset: String(o),
                  timestamp: '0',
                  key: null,
                  value: null,
                  headers: {},
                })),
              },
            ],
          },
        ],
      }
    })
    const reader = new PartitionReader(cluster, [{ topic: 'c', partition: 0, offset: '4' }], options)
    const seen: FetchedRecords[] = []
    for (let i = 0; i < 10 && reader.position('c', 0) !== '11'; i++) seen.push(...(await reader.fetch()))
    expect(offsets(seen, 'c', 0)).toEqual([9, 10])
    expect(reader.position('c', 0)).toBe('11')
  })

  it('moves past control records and hands none of them over', async () => {
    const cluster = new FakeCluster()
    cluster.addPartition('x', 0, 1, [0, 1, 2])
    const log = cluster.logs.get('x/0') ?? []
    for (const r of log) if (r.offset === 2) r.isControlRecord = true
    const reader = new PartitionReader(cluster, [{ topic: 'x', partition: 0, offset: '0' }], options)
    const round = await reader.fetch()
    expect(offsets(round, 'x', 0)).toEqual([0, 1])
    expect(reader.position('x', 0)).toBe('3')
  })

  it('defers an error no retry cures until the records of the same round are handed over', async () => {
    const { cluster, reader } = threeLeaders()
    cluster.hooks.set(2, () =>
      Promise.reject(Object.assign(new Error('not authorized'), { type: 'TOPIC_AUTHORIZATION_FAILED' })),
    )
    const round = await reader.fetch()
    expect(offsets(round, 't', 0)).toEqual([0, 1, 2])
    const error = await reader.fetch().catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.FETCH_FAILED)).toBe(true)
    expect((error as Error).message).toMatch(/not authorized/)
    expect(reader.position('t', 1)).toBe('0')
  })

  it('defers an out-of-range offset the same way, naming the partition and the offset asked for', async () => {
    const { cluster, reader } = threeLeaders()
    cluster.hooks.set(3, () =>
      Promise.reject(
        Object.assign(new Error('out of range'), { name: 'KafkaJSOffsetOutOfRange', topic: 't', partition: 2 }),
      ),
    )
    const round = await reader.fetch()
    expect(offsets(round, 't', 0)).toEqual([0, 1, 2])
    const error = await reader.fetch().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FetchOffsetOutOfRange)
    expect(error).toMatchObject({ topic: 't', partition: 2, offset: '0' })
  })

  it('gives up with FetchError once a partition has failed for longer than unavailableTimeoutMs', async () => {
    const cluster = new FakeCluster()
    cluster.addPartition('t', 0, 1, [0, 1])
    cluster.hooks.set(1, () => Promise.reject(connectionError()))
    const reader = new PartitionReader(cluster, [{ topic: 't', partition: 0, offset: '0' }], {
      ...options,
      unavailableTimeoutMs: 150,
    })
    const started = Date.now()
    let error: unknown
    while (!(error instanceof Error) && Date.now() - started < 5000)
      error = await reader.fetch().catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.FETCH_FAILED)).toBe(true)
    expect((error as Error).message).toMatch(/t\[0\].*unavailableTimeoutMs 150/)
    expect(reader.position('t', 0)).toBe('0')
  })

  it('backs off a partition with no known leader and reads it once metadata names one', async () => {
    const cluster = new FakeCluster()
    cluster.addPartition('t', 0, 1, [0, 1])
    cluster.known.delete('t/0')
    const reader = new PartitionReader(cluster, [{ topic: 't', partition: 0, offset: '0' }], options)
    expect(await reader.fetch()).toEqual([])
    expect(cluster.refreshes).toBe(1)
    const seen: FetchedRecords[] = []
    for (let i = 0; i < 20 && reader.position('t', 0) !== '2'; i++) seen.push(...(await reader.fetch()))
    expect(offsets(seen, 't', 0)).toEqual([0, 1])
  })

  it('loses, skips and reorders nothing under random leader failures and moves', { timeout: 60_000 }, async () => {
    const cluster = new FakeCluster()
    const partitions = range(0, 6)
    for (const p of partitions) cluster.addPartition('r', p, (p % 3) + 1, range(0, 60))
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (const node of [1, 2, 3]) {
      cluster.hooks.set(node, async (_request, answer) => {
        const r = random()
        if (r < 0.2) throw connectionError()
        if (r < 0.3) throw protocolError('NOT_LEADER_OR_FOLLOWER')
        if (r < 0.4) await new Promise((resolve) => setTimeout(resolve, 5))
        return answer()
      })
    }
    const reader = new PartitionReader(
      cluster,
      partitions.map((partition) => ({ topic: 'r', partition, offset: '0' })),
      options,
    )
    const seen: FetchedRecords[] = []
    // bounded by time, not rounds: back-offs (up to 5 s) make the number of rounds depend on the machine
    const deadline = Date.now() + 40_000
    while (Date.now() < deadline) {
      if (partitions.every((p) => reader.position('r', p) === '60')) break
      if (random() < 0.1) cluster.moveLeader('r', Math.floor(random() * 6), Math.floor(random() * 3) + 1)
      seen.push(...(await reader.fetch()))
    }
    for (const p of partitions) expect(offsets(seen, 'r', p)).toEqual(range(0, 60))
  })
})
