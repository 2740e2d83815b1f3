import { describe, expect, it } from 'vitest'
import {
  ErrorCodes,
  KasperError,
  type MessageProcessor,
  OffsetOutOfRangeError,
  PartitionOverlapError,
  ProcessorMissingError,
  TopicLayoutError,
  TopicProcessor,
} from '../../src/index.js'
import { committedOffsets, createKafka, createTopics, produce, uniqueName, values, waitFor } from '../helpers/kafka.js'
import { RecordingProcessor, start } from '../helpers/processor.js'

describe('TopicProcessor input checks on the real broker', () => {
  it('a missing input topic is a TOPIC_NOT_FOUND error naming it, before anything is read', async () => {
    const kafka = createKafka()
    const present = uniqueName('present')
    const missing = uniqueName('missing')
    await createTopics(kafka, [present], 1)
    const processor = new RecordingProcessor()
    const { run } = start(
      { topicProcessorName: uniqueName('t'), kafka, inputTopics: [present, missing], inputPartitions: [0] },
      processor,
    )
    const error = await run
    expect(error).toBeInstanceOf(TopicLayoutError)
    expect((error as TopicLayoutError).code).toBe(ErrorCodes.TOPIC_NOT_FOUND)
    expect((error as Error).message).toContain(`"${missing}"`)
    expect(processor.batches).toHaveLength(0)
  })

  it('input topics with different partition counts are a PARTITION_COUNT_MISMATCH error with the counts', async () => {
    const kafka = createKafka()
    const [a, b] = [uniqueName('two'), uniqueName('three')]
    await createTopics(kafka, [a], 2)
    await createTopics(kafka, [b], 3)
    const { run } = start(
      { topicProcessorName: uniqueName('t'), kafka, inputTopics: [a, b], inputPartitions: [0] },
      new RecordingProcessor(),
    )
    const error = (await run) as TopicLayoutError
    expect(error.code).toBe(ErrorCodes.PARTITION_COUNT_MISMATCH)
    expect(error.topics).toEqual({ [a]: 2, [b]: 3 })
    expect(error.message).toContain(`${a}=2`)
  })

  it('a partition that does not exist is a PARTITION_NOT_FOUND error', async () => {
    const kafka = createKafka()
    const topic = uniqueName('small')
    await createTopics(kafka, [topic], 2)
    const { run } = start(
      { topicProcessorName: uniqueName('t'), kafka, inputTopics: [topic], inputPartitions: [1, 2, 5] },
      new RecordingProcessor(),
    )
    const error = (await run) as TopicLayoutError
    expect(error.code).toBe(ErrorCodes.PARTITION_NOT_FOUND)
    expect(error.message).toMatch(/partitions 2, 5 do not exist/)
  })

  it('a partition without a MessageProcessor is a PROCESSOR_MISSING error (map at construction, factory at start)', async () => {
    const kafka = createKafka()
    const topic = uniqueName('nofactory')
    await createTopics(kafka, [topic], 2)
    const processor = new RecordingProcessor()
    const options = { topicProcessorName: uniqueName('t'), kafka, inputTopics: [topic], inputPartitions: [0, 1] }
    expect(() => start(options, new Map([[0, processor]]))).toThrow(ProcessorMissingError)
    const tp = new TopicProcessor(options, (partition) =>
      partition === 0 ? processor : (undefined as unknown as MessageProcessor),
    )
    await expect(tp.runLoop()).rejects.toMatchObject({ code: ErrorCodes.PROCESSOR_MISSING, partition: 1 })
    expect(processor.batches).toHaveLength(0)
  })
})

describe('TopicProcessor offsets on the real broker', () => {
  it('a committed offset below the log start is an OFFSET_OUT_OF_RANGE error; offsetReset earliest resumes explicitly', async () => {
    const kafka = createKafka()
    const topic = uniqueName('retained')
    await createTopics(kafka, [topic], 1)
    await produce(kafka, topic, values('r', 10))
    const name = uniqueName('oor')
    // the first run stops after its first batch of 2 (close() during process: that batch still commits)
    let stop: () => void = () => {}
    const first = new RecordingProcessor(() => stop())
    const running = start(
      {
        topicProcessorName: name,
        kafka,
        inputTopics: [topic],
        inputPartitions: [0],
        batchSize: 2,
        batchWaitMs: 60_000,
      },
      first,
    )
    stop = () => void running.tp.close()
    expect(await running.run).toBeUndefined()
    expect(first.batches.map((b) => b.length)).toEqual([2])
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, topic)).get(0)).toBe('2')
    // retention removes offsets 0..5: the committed offset 2 is gone
    const admin = kafka.admin()
    await admin.connect()
    await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] })
    await admin.disconnect()

    const strict = start(
      { topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0] },
      new RecordingProcessor(),
    )
    const error = (await strict.run) as OffsetOutOfRangeError
    expect(error).toBeInstanceOf(OffsetOutOfRangeError)
    expect(error).toMatchObject({ topic, partition: 0, offset: '2', logStart: '6', logEnd: '10' })

    const resumed = new RecordingProcessor()
    const lenient = start(
      { topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0], offsetReset: 'earliest' },
      resumed,
    )
    await waitFor(() => resumed.messages.length >= 4 || undefined)
    await lenient.tp.close()
    expect(await lenient.run).toBeUndefined()
    expect(resumed.messages.map((m) => m.offset)).toEqual(['6', '7', '8', '9'])
  })

  it.each([
    ['none', 'fails with OFFSET_OUT_OF_RANGE'],
    ['earliest', 'skips to the new log start, as asked'],
  ] as const)('retention overtaking a running processor (offsetReset %s) %s', async (offsetReset, _outcome) => {
    const kafka = createKafka()
    const topic = uniqueName('overtaken')
    await createTopics(kafka, [topic], 1)
    // one record batch per message, fetched one at a time, two buffered at most
    for (let i = 0; i < 20; i++) await produce(kafka, topic, [{ key: `k${i}`, value: `v${i}` }])
    let release: () => void = () => {}
    const blocked = new Promise<void>((r) => {
      release = r
    })
    const processor = new RecordingProcessor(async () => {
      if (processor.batches.length === 1) await blocked
    })
    const { tp, run } = start(
      {
        topicProcessorName: uniqueName('overtaken'),
        kafka,
        inputTopics: [topic],
        inputPartitions: [0],
        batchSize: 1,
        batchWaitMs: 10,
        fetchMaxBytesPerPartition: 1,
        maxBufferedMessagesPerPartition: 2,
        offsetReset,
      },
      processor,
    )
    await waitFor(() => processor.batches.length === 1 || undefined)
    await new Promise((r) => setTimeout(r, 300))
    const admin = kafka.admin()
    await admin.connect()
    await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '15' }] })
    await admin.disconnect()
    release()
    if (offsetReset === 'none') {
      const error = (await run) as OffsetOutOfRangeError
      expect(error).toBeInstanceOf(OffsetOutOfRangeError)
      expect(error).toMatchObject({ topic, partition: 0, logStart: '15' })
    } else {
      await waitFor(() => processor.messages.some((m) => m.offset === '19') || undefined)
      await tp.close()
      expect(await run).toBeUndefined()
      const offsets = processor.messages.map((m) => Number(m.offset))
      expect(offsets.slice(-5)).toEqual([15, 16, 17, 18, 19])
      expect(offsets.filter((o) => o > 3 && o < 15)).toEqual([])
    }
  })

  it('a commit Kafka refuses because the group has live members is KASPER_ASSIGNMENT_CONFLICT, not retriable, nothing committed', async () => {
    const kafka = createKafka()
    const topic = uniqueName('owned')
    await createTopics(kafka, [topic], 1)
    await produce(kafka, topic, values('o', 3))
    const name = uniqueName('owned')
    const member = kafka.consumer({ groupId: `kasper-topic-processor-${name}` })
    await member.connect()
    await member.subscribe({ topic })
    await member.run({ eachMessage: async () => {} })
    await waitFor(async () => (await member.describeGroup()).state === 'Stable' || undefined)
    try {
      const processor = new RecordingProcessor()
      const { run } = start({ topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0] }, processor)
      const error = (await run) as KasperError
      expect(KasperError.is(error, ErrorCodes.ASSIGNMENT_CONFLICT)).toBe(true)
      expect(error.retriable).toBe(false)
      expect(error.message).toMatch(new RegExp(`group kasper-topic-processor-${name} has live members`))
      expect(processor.batches).toHaveLength(1)
      // -1: the group holds no offset for the partition
      expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, topic)).get(0) ?? '-1').toBe('-1')
    } finally {
      await member.disconnect()
    }
  })
})

describe('TopicProcessor without group membership', () => {
  it('two processors of one name on disjoint partitions run side by side; stopping one does not pause the other', async () => {
    const kafka = createKafka()
    const topic = uniqueName('shared')
    await createTopics(kafka, [topic], 2)
    const name = uniqueName('pair')
    const a = new RecordingProcessor()
    const b = new RecordingProcessor()
    const runA = start(
      { topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0], batchWaitMs: 50 },
      a,
    )
    const runB = start(
      { topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [1], batchWaitMs: 50 },
      b,
    )
    await produce(kafka, topic, [...values('a', 5, 0), ...values('b', 5, 1)])
    await waitFor(() => (a.messages.length >= 5 && b.messages.length >= 5) || undefined)
    await runA.tp.close()
    expect(await runA.run).toBeUndefined()
    // B keeps going at once: no rebalance, no pause
    const sentAt = Date.now()
    await produce(kafka, topic, values('c', 3, 1))
    await waitFor(() => b.messages.length >= 8 || undefined, 5000)
    const delay = Date.now() - sentAt
    await runB.tp.close()
    expect(await runB.run).toBeUndefined()
    expect(a.messages.every((m) => m.partition === 0)).toBe(true)
    expect(b.messages.every((m) => m.partition === 1)).toBe(true)
    expect(delay).toBeLessThan(3000)
    const committed = await committedOffsets(kafka, `kasper-topic-processor-${name}`, topic)
    expect(Object.fromEntries(committed)).toEqual({ 0: '5', 1: '8' })
  })

  it('two live processors of one name on the same partition are detected (PARTITION_OVERLAP) through commit metadata', async () => {
    const kafka = createKafka()
    const topic = uniqueName('overlap')
    await createTopics(kafka, [topic], 1)
    const name = uniqueName('overlap')
    const options = {
      topicProcessorName: name,
      kafka,
      inputTopics: [topic],
      inputPartitions: [0],
      batchWaitMs: 50,
      overlapCheckIntervalMs: 300,
    }
    const a = start(options, new RecordingProcessor())
    const b = start(options, new RecordingProcessor())
    let i = 0
    const feeding = setInterval(() => void produce(kafka, topic, values(`m${i++}-`, 5)), 100)
    try {
      const first = await Promise.race([a.run, b.run])
      expect(first).toBeInstanceOf(PartitionOverlapError)
      expect(first).toMatchObject({ code: ErrorCodes.PARTITION_OVERLAP, topic, partition: 0 })
      expect((first as Error).message).toMatch(/also processed by another instance \(kasper-ts:/)
    } finally {
      clearInterval(feeding)
      await Promise.all([a.tp.close(), b.tp.close()])
    }
  })

  it('a 61 s process() (past kafkajs’s session and rebalance timeouts) loses nothing: the group never has members, the batch is committed once', async () => {
    const kafka = createKafka()
    const topic = uniqueName('slow')
    await createTopics(kafka, [topic], 1)
    await produce(kafka, topic, values('s', 3))
    const name = uniqueName('slow')
    const admin = kafka.admin()
    await admin.connect()
    const states: string[] = []
    const processor = new RecordingProcessor(async () => {
      // 61 s: past kafkajs's default sessionTimeout (30 s) and rebalanceTimeout (60 s); a group
      // member would have been evicted and its partition reassigned
      for (let i = 0; i < 61; i++) {
        const { groups } = await admin.describeGroups([`kasper-topic-processor-${name}`])
        states.push(`${groups[0]?.state}:${groups[0]?.members.length}`)
        await new Promise((r) => setTimeout(r, 1000))
      }
    })
    const { tp, run } = start(
      { topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0] },
      processor,
    )
    await waitFor(() => processor.batches.length >= 1 || undefined)
    await tp.close()
    expect(await run).toBeUndefined()
    await admin.disconnect()
    expect(states.length).toBe(61)
    expect(processor.batches).toHaveLength(1)
    expect(new Set(states.map((s) => s.split(':')[1]))).toEqual(new Set(['0']))
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, topic)).get(0)).toBe('3')
  }, 120_000)
})
