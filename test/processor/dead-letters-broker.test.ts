/**
 * onProcessError 'dead-letter' on the broker: poison messages go to the dead-letter topic with their
 * coordinates, everything else is produced, and the input is committed only after both are acked;
 * the breaker halts before anything of the batch is produced or committed; a missing dead-letter
 * topic is refused at start.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError, type Sender } from '../../src/index.js'
import { PrometheusMetrics } from '../../src/metrics/prometheus.js'
import {
  committedOffsets,
  createKafka,
  createTopics,
  endOffsets,
  produce,
  readTopic,
  uniqueName,
  values,
  waitCommitted,
} from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'

const kafka = createKafka('kasper-dead-letters')

async function setup(partitions = 2, withDlq = true) {
  const name = uniqueName('dlq')
  const input = `${name}-in`
  const output = `${name}-out`
  await createTopics(kafka, withDlq ? [input, output, `${name}.dlq`] : [input, output], partitions)
  return { name, input, output, dlq: `${name}.dlq`, group: `kasper-topic-processor-${name}` }
}

/** Passes every message through, except values starting with "poison" (throws for the batch holding one). */
const poisonAware = (output: string) => ({
  async process(messages: readonly { key: Buffer | null; value: Buffer | null }[], sender: Sender) {
    const bad = messages.find((m) => String(m.value).startsWith('poison'))
    if (bad) throw new Error(`cannot parse ${String(bad.key)}`)
    for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
  },
})

describe("onProcessError 'dead-letter' on the broker", () => {
  it('poison messages go to <name>.dlq with their coordinates; the rest is produced; the input is committed to the end', async () => {
    const t = await setup()
    const inputs = [
      ...values('a', 60, 0).map((m, i) => (i === 17 || i === 42 ? { ...m, value: `poison-${i}` } : m)),
      ...values('b', 40, 1).map((m, i) => (i === 5 ? { ...m, value: 'poison-b', headers: { trace: 'xyz' } } : m)),
    ]
    await produce(kafka, t.input, inputs)
    const metrics = new PrometheusMetrics()
    const { tp, run } = start(
      {
        topicProcessorName: t.name,
        kafka,
        inputTopics: [t.input],
        inputPartitions: [0, 1],
        batchSize: 25,
        onProcessError: 'dead-letter',
        deadLetter: { retries: 1, retryBackoffMs: 10 },
        metrics,
      },
      poisonAware(t.output),
    )
    await waitCommitted(kafka, t.group, t.input, { 0: 60, 1: 40 })
    await tp.close()
    expect(await run).toBeUndefined()
    const out = await readTopic(kafka, t.output, 97)
    expect(out).toHaveLength(97)
    expect(new Set(out.map((m) => m.value)).size).toBe(97)
    expect(out.some((m) => m.value?.startsWith('poison'))).toBe(false)
    const letters = await readTopic(kafka, t.dlq, 3)
    expect(letters.map((m) => m.value).sort()).toEqual(['poison-17', 'poison-42', 'poison-b'])
    const b = letters.find((m) => m.value === 'poison-b')
    expect(b?.key).toBe('b5')
    expect(b?.headers).toMatchObject({
      trace: 'xyz',
      'kasper.dlq.source.topic': t.input,
      'kasper.dlq.source.partition': '1',
      'kasper.dlq.source.offset': '5',
      'kasper.dlq.error.code': 'Error',
      'kasper.dlq.error.message': 'cannot parse b5',
      'kasper.dlq.processor': t.name,
    })
    expect(Number(b?.headers['kasper.dlq.attempts'])).toBeGreaterThanOrEqual(3)
    const text = await metrics.registry.metrics()
    expect(text).toMatch(new RegExp(`kasper_dead_letters_total\\{topic="${t.input}",partition="1"\\} 1`))
    expect(text).toMatch(new RegExp(`kasper_dead_letters_total\\{topic="${t.input}",partition="0"\\} 2`))
    expect(text).toMatch(/kasper_process_retries_total\{partition="0"\} [1-9]/)
  })

  it('the breaker halts with KASPER_DEAD_LETTER_BREAKER before producing or committing the batch that tripped it', async () => {
    const t = await setup(1)
    await produce(kafka, t.input, [
      ...values('ok', 10, 0),
      ...values('bad', 10, 0).map((m) => ({ ...m, value: `poison-${m.key}` })),
    ])
    const { run } = start(
      {
        topicProcessorName: t.name,
        kafka,
        inputTopics: [t.input],
        inputPartitions: [0],
        batchSize: 10,
        batchWaitMs: 60_000,
        onProcessError: 'dead-letter',
        deadLetter: { retries: 0, retryBackoffMs: 10, maxDeadLetters: 5 },
      },
      poisonAware(t.output),
    )
    const error = await run
    expect(KasperError.is(error, ErrorCodes.DEAD_LETTER_BREAKER)).toBe(true)
    expect((error as KasperError).retriable).toBe(false)
    expect((error as Error).message).toMatch(/10 of 20 messages failed/)
    // the first batch (all good) is committed; the poisoned one is neither dead-lettered nor committed
    expect((await committedOffsets(kafka, t.group, t.input)).get(0)).toBe('10')
    expect((await endOffsets(kafka, t.dlq)).get(0)).toBe(0)
    expect((await endOffsets(kafka, t.output)).get(0)).toBe(10)
  })

  it('a dead-letter topic that does not exist is refused at start, naming it; nothing is read or committed', async () => {
    const t = await setup(1, false)
    await produce(kafka, t.input, values('x', 5, 0))
    const { run } = start(
      {
        topicProcessorName: t.name,
        kafka,
        inputTopics: [t.input],
        inputPartitions: [0],
        onProcessError: 'dead-letter',
      },
      poisonAware(t.output),
    )
    const error = await run
    expect(KasperError.is(error, ErrorCodes.TOPIC_NOT_FOUND)).toBe(true)
    expect((error as Error).message).toContain(`dead-letter topic "${t.dlq}" does not exist`)
    expect((await committedOffsets(kafka, t.group, t.input)).get(0)).toBe('-1')
  })

  it("output errors of the job's own making still fail the processor under 'dead-letter' (nothing dead-lettered)", async () => {
    const t = await setup(1)
    await produce(kafka, t.input, values('x', 5, 0))
    const { run } = start(
      {
        topicProcessorName: t.name,
        kafka,
        inputTopics: [t.input],
        inputPartitions: [0],
        batchSize: 5,
        onProcessError: 'dead-letter',
      },
      {
        process(_messages, sender) {
          sender.send({ topic: t.output, partition: 7, value: 'nowhere' })
        },
      },
    )
    const error = await run
    expect(KasperError.is(error, ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)).toBe(true)
    expect((await endOffsets(kafka, t.dlq)).get(0)).toBe(0)
    expect((await committedOffsets(kafka, t.group, t.input)).get(0)).toBe('-1')
  })
})
