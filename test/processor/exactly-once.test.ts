/**
 * guarantee 'exactly-once' on the broker: each batch's output and input offsets in one transaction.
 * Committed output is audited with Kafka's own console consumer under read_committed
 * (readCommittedByKafka); the raw log, aborted records included, with kafkajs's read_uncommitted reader.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError, type Sender } from '../../src/index.js'
import {
  committedOffsets,
  createKafka,
  createTopics,
  produce,
  readCommittedByKafka,
  readTopic,
  uniqueName,
  values,
  waitCommitted,
} from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'

const kafka = createKafka('kasper-eos')

async function setup(partitions: number) {
  const name = uniqueName('eos')
  const input = `${name}-in`
  const output = `${name}-out`
  await createTopics(kafka, [input, output], partitions)
  return { name, input, output, group: `kasper-topic-processor-${name}` }
}

const passThrough = (output: string) => ({
  process(messages: readonly { key: Buffer | null; value: Buffer | null }[], sender: Sender) {
    for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
  },
})

const exactlyOnce = { guarantee: 'exactly-once' as const, batchSize: 50 }

/** Exactly-once options for one partition of `t`'s input, the overlap check out of the way. */
const onePartition = (t: { name: string; input: string }) => ({
  topicProcessorName: t.name,
  kafka,
  inputTopics: [t.input],
  inputPartitions: [0],
  ...exactlyOnce,
  overlapCheckIntervalMs: 600_000,
})

describe("guarantee 'exactly-once'", () => {
  it('every input has exactly one committed output, and the offsets are committed with it', async () => {
    const t = await setup(2)
    await produce(kafka, t.input, [...values('a', 120, 0), ...values('b', 80, 1)])
    const { tp, run } = start(
      { topicProcessorName: t.name, kafka, inputTopics: [t.input], inputPartitions: [0, 1], ...exactlyOnce },
      passThrough(t.output),
    )
    await waitCommitted(kafka, t.group, t.input, { 0: 120, 1: 80 })
    await tp.close()
    expect(await run).toBeUndefined()
    const out = await readCommittedByKafka(kafka, t.output)
    expect(out).toHaveLength(200)
    expect(new Set(out.map((m) => m.value)).size).toBe(200)
  })

  it("a batch that fails after flush(): its output is aborted, invisible to read_committed; the rerun's output is the only one", async () => {
    const t = await setup(1)
    await produce(kafka, t.input, values('x', 100, 0))
    let failed = false
    const failing = start(onePartition(t), {
      async process(messages, sender) {
        for (const m of messages) sender.send({ topic: t.output, key: m.key, value: m.value })
        if (messages.some((m) => String(m.value) === 'x70')) {
          await sender.flush() // produced inside the transaction, then the batch fails
          failed = true
          throw new Error('fails after flush')
        }
      },
    })
    const error = await failing.run
    expect(failed).toBe(true)
    expect(KasperError.is(error, ErrorCodes.PROCESS_FAILED)).toBe(true)
    expect((await committedOffsets(kafka, t.group, t.input)).get(0)).toBe('50')
    // the aborted batch's records are in the log (read_uncommitted sees them), not in committed data
    expect((await readTopic(kafka, t.output, 100, 5000, true)).length).toBe(100)
    expect((await readCommittedByKafka(kafka, t.output)).map((m) => m.value)).toEqual(
      values('x', 50).map((m) => m.value),
    )

    const rerun = start(onePartition(t), passThrough(t.output))
    await waitCommitted(kafka, t.group, t.input, { 0: 100 })
    await rerun.tp.close()
    expect(await rerun.run).toBeUndefined()
    const committed = await readCommittedByKafka(kafka, t.output)
    expect(committed.map((m) => m.value)).toEqual(values('x', 100).map((m) => m.value))
  })

  it('a zombie: an instance paused mid-batch while a new one takes its partition cannot commit once resumed', async () => {
    const t = await setup(1)
    await produce(kafka, t.input, values('z', 100, 0))
    let release: () => void = () => {}
    const released = new Promise<void>((r) => {
      release = r
    })
    let paused: () => void = () => {}
    const isPaused = new Promise<void>((r) => {
      paused = r
    })
    const zombie = start(onePartition(t), {
      async process(messages, sender) {
        for (const m of messages) sender.send({ topic: t.output, key: m.key, value: m.value })
        if (String(messages[0]?.value) === 'z50') {
          paused()
          await released // a long GC pause, a stopped VM: its replacement starts meanwhile
        }
      },
    })
    await isPaused
    const replacement = start(onePartition(t), passThrough(t.output))
    await waitCommitted(kafka, t.group, t.input, { 0: 100 })
    release()
    const error = await zombie.run
    expect(KasperError.is(error, ErrorCodes.PRODUCER_FENCED)).toBe(true)
    expect((error as KasperError).retriable).toBe(false)
    await replacement.tp.close()
    expect(await replacement.run).toBeUndefined()
    expect((await committedOffsets(kafka, t.group, t.input)).get(0)).toBe('100')
    const committed = await readCommittedByKafka(kafka, t.output)
    expect(committed.map((m) => m.value)).toEqual(values('z', 100).map((m) => m.value))
  })

  it("with onProcessError 'dead-letter': dead letters are written in the batch's transaction, once", async () => {
    const t = await setup(1)
    await createTopics(kafka, [`${t.name}.dlq`], 1)
    await produce(
      kafka,
      t.input,
      values('d', 100, 0).map((m, i) => (i === 30 ? { ...m, value: 'poison' } : m)),
    )
    const { tp, run } = start(
      {
        topicProcessorName: t.name,
        kafka,
        inputTopics: [t.input],
        inputPartitions: [0],
        ...exactlyOnce,
        onProcessError: 'dead-letter',
        deadLetter: { retries: 0, retryBackoffMs: 10 },
      },
      {
        async process(messages, sender) {
          if (messages.some((m) => String(m.value) === 'poison')) throw new Error('poison')
          for (const m of messages) sender.send({ topic: t.output, key: m.key, value: m.value })
          await sender.flush() // deferred in an attempt: the attempt's output may yet be thrown away
        },
      },
    )
    await waitCommitted(kafka, t.group, t.input, { 0: 100 })
    await tp.close()
    expect(await run).toBeUndefined()
    const out = await readCommittedByKafka(kafka, t.output)
    expect(out).toHaveLength(99)
    expect(new Set(out.map((m) => m.value)).size).toBe(99)
    expect((await readCommittedByKafka(kafka, `${t.name}.dlq`)).map((m) => m.value)).toEqual(['poison'])
    // its headers (the console consumer does not print them): the one record of the topic's log
    const letters = await readTopic(kafka, `${t.name}.dlq`, 1, 5000, true)
    expect(letters.map((m) => [m.value, m.headers['kasper.dlq.source.offset']])).toEqual([['poison', '30']])
  })
})
