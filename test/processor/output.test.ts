/**
 * Output that cannot reach its partition fails the batch, typed, with nothing committed; output
 * that can is always produced, however large the batch.
 */
import type { Kafka } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { BatchError, ErrorCodes, KasperError, type MessageProcessor } from '../../src/index.js'
import { committedTotal, createKafka, createTopics, produce, readTopic, uniqueName, values } from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'

async function setup(kafka: Kafka, inputPartitions: number, outputPartitions: number) {
  const input = uniqueName('in')
  const output = uniqueName('out')
  await createTopics(kafka, [input], inputPartitions)
  await createTopics(kafka, [output], outputPartitions)
  return { input, output, name: uniqueName('output') }
}

async function failingRun(kafka: Kafka, input: string, name: string, processor: MessageProcessor, batchSize = 100) {
  const { run } = start(
    { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize },
    processor,
  )
  return (await run) as BatchError
}

describe('TopicProcessor output on the real broker', () => {
  it('a partition the output topic does not have fails the batch (OUTPUT_PARTITION_NOT_FOUND) and commits nothing', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 4)
    await produce(kafka, input, values('m', 10))
    const error = await failingRun(kafka, input, name, {
      process(messages, sender) {
        for (const m of messages) sender.send({ topic: output, partition: 77, value: m.value })
      },
    })
    expect(error).toBeInstanceOf(BatchError)
    expect(error.code).toBe(ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)
    expect(error.retriable).toBe(false)
    expect(error.message).toContain(
      `output partition 77 of topic "${output}" does not exist: the topic has 4 partitions`,
    )
    expect(await committedTotal(kafka, `kasper-topic-processor-${name}`, input)).toBe(0)
  })

  it('key % 5 on a 4-partition topic: nothing is produced and nothing committed (was: 8 of 40 outputs lost)', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 4)
    await produce(kafka, input, values('', 40))
    const error = await failingRun(kafka, input, name, {
      process(messages, sender) {
        for (const m of messages) sender.send({ topic: output, partition: Number(String(m.key)) % 5, value: m.value })
      },
    })
    expect(error.code).toBe(ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)
    expect(await committedTotal(kafka, `kasper-topic-processor-${name}`, input)).toBe(0)
    expect(await readTopic(kafka, output, 1, 1500)).toHaveLength(0)
  })

  it('once the layout is known, send() itself throws for a missing partition', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 2)
    await produce(kafka, input, values('m', 4))
    let batches = 0
    let thrown: unknown
    const { run, tp } = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 2 },
      {
        process(messages, sender) {
          batches++
          if (batches === 1) {
            for (const m of messages) sender.send({ topic: output, partition: 1, value: m.value })
            return
          }
          try {
            sender.send({ topic: output, partition: 2, value: 'x' })
          } catch (error) {
            thrown = error
          }
          void tp.close()
        },
      },
    )
    await run
    expect(KasperError.is(thrown, ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)).toBe(true)
  })

  it('a missing output topic is OUTPUT_TOPIC_NOT_FOUND naming it', async () => {
    const kafka = createKafka()
    const { input, name } = await setup(kafka, 1, 1)
    await produce(kafka, input, values('m', 3))
    const missing = uniqueName('nowhere')
    const error = await failingRun(kafka, input, name, {
      process(messages, sender) {
        for (const m of messages) sender.send({ topic: missing, value: m.value })
      },
    })
    expect(error.code).toBe(ErrorCodes.OUTPUT_TOPIC_NOT_FOUND)
    expect(error.message).toContain(`"${missing}"`)
    expect(await committedTotal(kafka, `kasper-topic-processor-${name}`, input)).toBe(0)
  })

  it('a value that is not a string, Buffer or null fails the batch at send() (OUTPUT_INVALID)', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 1)
    await produce(kafka, input, values('m', 3))
    const error = await failingRun(kafka, input, name, {
      process(_messages, sender) {
        sender.send({ topic: output, value: { not: 'serialized' } as unknown as string })
      },
    })
    expect(error.code).toBe(ErrorCodes.OUTPUT_INVALID)
    expect(error.message).toMatch(/message.value must be a string, a Buffer or null, got an object/)
  })

  it('a send() after process() resolved (a forgotten await) stops the processor with SEND_AFTER_BATCH', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 1)
    await produce(kafka, input, values('m', 3))
    const lateErrors: unknown[] = []
    const { run } = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] },
      {
        process(messages, sender) {
          setTimeout(() => {
            try {
              sender.send({ topic: output, value: messages[0]?.value ?? null })
            } catch (error) {
              lateErrors.push(error)
            }
          }, 20)
        },
      },
    )
    const error = await run
    expect(KasperError.is(error, ErrorCodes.SEND_AFTER_BATCH)).toBe(true)
    expect(lateErrors).toHaveLength(1)
  })

  it('10,000 × 100 B co-partitioned into one output partition in one batch is produced (was: over 1 MB, stuck forever)', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 1)
    const n = 10_000
    await produce(
      kafka,
      input,
      Array.from({ length: n }, (_, i) => ({ key: String(i), value: `${i}`.padEnd(100, '.'), partition: 0 })),
    )
    const sizes: number[] = []
    const { tp, run } = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: n, batchWaitMs: 2000 },
      {
        process(messages, sender) {
          sizes.push(messages.length)
          for (const m of messages) sender.send({ topic: output, partition: m.partition, key: m.key, value: m.value })
        },
      },
    )
    const out = await readTopic(kafka, output, n, 60_000)
    await tp.close()
    expect(await run).toBeUndefined()
    expect(Math.max(...sizes)).toBe(n) // one batch of about 1.4 MB of records
    expect(out).toHaveLength(n)
    expect(out.map((m) => m.key)).toEqual(Array.from({ length: n }, (_, i) => String(i)))
    expect(await committedTotal(kafka, `kasper-topic-processor-${name}`, input)).toBe(n)
  }, 90_000)

  it('batch output of 1 MB messages is produced message by message; one message over the limit is MESSAGE_TOO_LARGE', async () => {
    const kafka = createKafka()
    const { input, output, name } = await setup(kafka, 1, 1)
    await produce(kafka, input, values('m', 6))
    const big = Buffer.alloc(1_000_000, 1)
    const { tp, run } = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 6 },
      {
        process(messages, sender) {
          for (const m of messages) sender.send({ topic: output, key: m.key, value: big })
        },
      },
    )
    const out = await readTopic(kafka, output, 6, 60_000)
    await tp.close()
    expect(await run).toBeUndefined()
    expect(out).toHaveLength(6)

    const name2 = uniqueName('too-large')
    const error = await failingRun(kafka, input, name2, {
      process(_messages, sender) {
        sender.send({ topic: output, value: Buffer.alloc(1_100_000) })
      },
    })
    expect(error.code).toBe(ErrorCodes.MESSAGE_TOO_LARGE)
    expect(error.message).toMatch(new RegExp(`${output}\\[0\\] is 11000\\d\\d bytes`))
    expect(await committedTotal(kafka, `kasper-topic-processor-${name2}`, input)).toBe(0)
  }, 90_000)
})
