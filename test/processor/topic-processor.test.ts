import { describe, expect, it } from 'vitest'
import { BatchError, ErrorCodes, KasperError } from '../../src/index.js'
import {
  committedOffsets,
  createKafka,
  createTopics,
  produce,
  readTopic,
  uniqueName,
  values,
  waitFor,
} from '../helpers/kafka.js'
import { RecordingProcessor, start } from '../helpers/processor.js'

describe('TopicProcessor on the real broker', () => {
  it('joins two topics partition-wise, keeping order within each topic-partition', async () => {
    const kafka = createKafka()
    const [characters, fictions, output] = [uniqueName('characters'), uniqueName('fictions'), uniqueName('joined')]
    await createTopics(kafka, [characters, fictions, output], 2)
    await produce(kafka, characters, [...values('c', 20, 0), ...values('d', 5, 1)])
    await produce(kafka, fictions, [...values('f', 12, 0), ...values('g', 3, 1)])
    const processor = new RecordingProcessor((messages, sender) => {
      for (const m of messages)
        sender.send({
          topic: output,
          key: m.key,
          value: `${m.topic === characters ? 'C' : 'F'}:${m.value}`,
          partition: m.partition,
        })
    })
    const name = uniqueName('join')
    const { tp, run } = start(
      {
        topicProcessorName: name,
        kafka,
        inputTopics: [characters, fictions],
        inputPartitions: [0, 1],
        batchSize: 1000,
      },
      processor,
    )
    await waitFor(() => processor.messages.length >= 40 || undefined)
    await tp.close()
    expect(await run).toBeUndefined()

    for (const batch of processor.batches) {
      expect(new Set(batch.map((m) => m.partition)).size).toBe(1)
    }
    const p0 = processor.messages.filter((m) => m.partition === 0)
    expect(p0.filter((m) => m.topic === characters).map((m) => m.value?.toString())).toEqual(
      values('c', 20).map((v) => v.value),
    )
    expect(p0.filter((m) => m.topic === fictions).map((m) => m.value?.toString())).toEqual(
      values('f', 12).map((v) => v.value),
    )
    // both topics of partition 0 reach the same processor call (partition-wise join)
    expect(processor.batches.some((b) => b[0]?.partition === 0 && new Set(b.map((m) => m.topic)).size === 2)).toBe(true)

    const out = await readTopic(kafka, output, 40)
    expect(out).toHaveLength(40)
    expect(
      out
        .filter((m) => m.partition === 1)
        .map((m) => m.value)
        .sort(),
    ).toEqual([...values('d', 5).map((v) => `C:${v.value}`), ...values('g', 3).map((v) => `F:${v.value}`)].sort())
    const committed = await committedOffsets(kafka, `kasper-topic-processor-${name}`, characters)
    expect(Object.fromEntries(committed)).toEqual({ 0: '20', 1: '5' })
    expect(Object.fromEntries(await committedOffsets(kafka, `kasper-topic-processor-${name}`, fictions))).toEqual({
      0: '12',
      1: '3',
    })
  })

  it('hands over a batch when it holds batchSize messages', async () => {
    const kafka = createKafka()
    const topic = uniqueName('by-size')
    await createTopics(kafka, [topic], 1)
    await produce(kafka, topic, values('m', 25))
    const processor = new RecordingProcessor()
    const { tp, run } = start(
      {
        topicProcessorName: uniqueName('size'),
        kafka,
        inputTopics: [topic],
        inputPartitions: [0],
        batchSize: 10,
        batchWaitMs: 60_000,
      },
      processor,
    )
    await waitFor(() => processor.messages.length >= 20 || undefined)
    await new Promise((r) => setTimeout(r, 500))
    await tp.close()
    await run
    // 25 messages, size 10, wait 60 s: exactly two full batches, the rest waits
    expect(processor.batches.map((b) => b.length)).toEqual([10, 10])
  })

  it('hands over a partial batch after batchWaitMs', async () => {
    const kafka = createKafka()
    const topic = uniqueName('by-time')
    await createTopics(kafka, [topic], 1)
    const processor = new RecordingProcessor()
    const { tp, run } = start(
      {
        topicProcessorName: uniqueName('time'),
        kafka,
        inputTopics: [topic],
        inputPartitions: [0],
        batchSize: 1000,
        batchWaitMs: 1500,
      },
      processor,
    )
    await new Promise((r) => setTimeout(r, 1000))
    const producedAt = Date.now()
    await produce(kafka, topic, values('t', 3))
    await waitFor(() => processor.batches.length >= 1 || undefined)
    const waited = Date.now() - producedAt
    await tp.close()
    await run
    expect(processor.batches.map((b) => b.length)).toEqual([3])
    expect(waited).toBeGreaterThanOrEqual(1400)
  })

  it('resumes from committed offsets after a restart, and a new name starts from the earliest offset', async () => {
    const kafka = createKafka()
    const topic = uniqueName('resume')
    await createTopics(kafka, [topic], 1)
    await produce(kafka, topic, values('a', 10))
    const name = uniqueName('resume')
    const first = new RecordingProcessor()
    let running = start({ topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0] }, first)
    await waitFor(() => first.messages.length >= 10 || undefined)
    await running.tp.close()
    await running.run
    await produce(kafka, topic, values('b', 5))
    const second = new RecordingProcessor()
    running = start({ topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0] }, second)
    await waitFor(() => second.messages.length >= 5 || undefined)
    await new Promise((r) => setTimeout(r, 400))
    await running.tp.close()
    await running.run
    expect(second.messages.map((m) => m.value?.toString())).toEqual(values('b', 5).map((v) => v.value))
    expect(second.messages[0]?.offset).toBe('10')
  })

  it('initialOffset latest skips what was there before the first start', async () => {
    const kafka = createKafka()
    const topic = uniqueName('latest')
    await createTopics(kafka, [topic], 1)
    await produce(kafka, topic, values('old', 5))
    const processor = new RecordingProcessor()
    const { tp, run } = start(
      {
        topicProcessorName: uniqueName('latest'),
        kafka,
        inputTopics: [topic],
        inputPartitions: [0],
        initialOffset: 'latest',
      },
      processor,
    )
    await new Promise((r) => setTimeout(r, 1000))
    await produce(kafka, topic, values('new', 2))
    await waitFor(() => processor.messages.length >= 2 || undefined)
    await tp.close()
    await run
    expect(processor.messages.map((m) => m.value?.toString())).toEqual(['new0', 'new1'])
  })

  it('output produced before a crash is kept, the batch is replayed, nothing is lost', async () => {
    const kafka = createKafka()
    const [input, output] = [uniqueName('crash-in'), uniqueName('crash-out')]
    await createTopics(kafka, [input, output], 1)
    await produce(kafka, input, values('x', 6))
    const name = uniqueName('crash')
    // produces its output (flush), then dies before the commit
    const crashing = new RecordingProcessor(async (messages, sender) => {
      for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
      await sender.flush()
      throw new Error('crash between produce and commit')
    })
    const first = start({ topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] }, crashing)
    const error = await first.run
    expect(error).toBeInstanceOf(BatchError)
    expect((error as BatchError).code).toBe(ErrorCodes.PROCESS_FAILED)
    expect((error as BatchError).partition).toBe(0)
    expect((error as BatchError).offsets).toEqual({ [input]: { first: '0', last: '5' } })
    expect(((error as BatchError).cause as Error).message).toBe('crash between produce and commit')
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('-1')

    const healthy = new RecordingProcessor((messages, sender) => {
      for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
    })
    const second = start({ topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] }, healthy)
    await waitFor(() => healthy.messages.length >= 6 || undefined)
    await second.tp.close()
    expect(await second.run).toBeUndefined()
    expect(healthy.messages.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5'])
    const out = await readTopic(kafka, output, 12)
    // every input has its output; the duplicates are exactly the uncommitted batch
    expect(out.map((m) => m.value).sort()).toEqual([...values('x', 6), ...values('x', 6)].map((v) => v.value).sort())
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('6')
  })

  it('a missing output topic (no auto-creation) rejects with OUTPUT_TOPIC_NOT_FOUND and commits nothing', async () => {
    const kafka = createKafka()
    const input = uniqueName('nout-in')
    await createTopics(kafka, [input], 1)
    await produce(kafka, input, values('y', 3))
    const name = uniqueName('nout')
    const processor = new RecordingProcessor((messages, sender) => {
      for (const m of messages) sender.send({ topic: uniqueName('does-not-exist'), value: m.value })
    })
    const { run } = start({ topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] }, processor)
    const error = await run
    expect(KasperError.is(error, ErrorCodes.OUTPUT_TOPIC_NOT_FOUND)).toBe(true)
    expect((error as BatchError).offsets).toEqual({ [input]: { first: '0', last: '2' } })
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('-1')
  })

  it('a process() that hangs past processTimeoutMs fails with PROCESS_TIMEOUT and its signal is aborted', async () => {
    const kafka = createKafka()
    const input = uniqueName('hang')
    await createTopics(kafka, [input], 1)
    await produce(kafka, input, values('h', 2))
    let aborted = false
    const processor = new RecordingProcessor(
      (_messages, _sender, context) =>
        new Promise<void>((resolve) => {
          context.signal.addEventListener('abort', () => {
            aborted = true
            resolve()
          })
        }),
    )
    const { run } = start(
      {
        topicProcessorName: uniqueName('hang'),
        kafka,
        inputTopics: [input],
        inputPartitions: [0],
        processTimeoutMs: 500,
      },
      processor,
    )
    const error = await run
    expect(KasperError.is(error, ErrorCodes.PROCESS_TIMEOUT)).toBe(true)
    expect((error as Error).message).toMatch(/processTimeoutMs \(500 ms\)/)
    expect(aborted).toBe(true)
  })

  it('close() lets the in-flight batch finish (produce, then commit) and is idempotent', async () => {
    const kafka = createKafka()
    const [input, output] = [uniqueName('close-in'), uniqueName('close-out')]
    await createTopics(kafka, [input, output], 1)
    await produce(kafka, input, values('z', 4))
    const name = uniqueName('close')
    let entered: () => void = () => {}
    const inProcess = new Promise<void>((r) => {
      entered = r
    })
    const processor = new RecordingProcessor(async (messages, sender) => {
      entered()
      await new Promise((r) => setTimeout(r, 1000))
      for (const m of messages) sender.send({ topic: output, value: m.value })
    })
    const { tp, run } = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] },
      processor,
    )
    await inProcess
    const closes = [tp.close(), tp.close()]
    expect(closes[0]).toBe(closes[1])
    await Promise.all(closes)
    expect(await run).toBeUndefined()
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('4')
    expect(await readTopic(kafka, output, 4)).toHaveLength(4)
    await expect(tp.runLoop()).rejects.toMatchObject({ code: ErrorCodes.CLOSED })
  })
})
