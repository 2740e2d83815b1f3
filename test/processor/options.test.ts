import { Kafka } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  ErrorCodes,
  type MessageProcessor,
  TopicProcessor,
  type TopicProcessorOptions,
} from '../../src/index.js'
import { resolveTopicProcessorOptions } from '../../src/processor/options.js'

const kafka = new Kafka({ brokers: ['127.0.0.1:1'] })
const valid = { topicProcessorName: 'unit', kafka, inputTopics: ['a'], inputPartitions: [0] }
const noop: MessageProcessor = { process() {} }

function issuesOf(options: unknown): Record<string, string> {
  try {
    resolveTopicProcessorOptions(options)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID)
    return Object.fromEntries((error as ConfigError).issues.map((i) => [i.field, i.message]))
  }
  throw new Error('expected a ConfigError')
}

describe('TopicProcessor options', () => {
  it('fills Kasper’s defaults (earliest, not Kasper’s newest)', () => {
    const o = resolveTopicProcessorOptions(valid)
    expect(o).toMatchObject({
      batchSize: 1000,
      batchWaitMs: 5000,
      initialOffset: 'earliest',
      offsetReset: 'none',
      metricsUpdateIntervalMs: 15_000,
      maxBufferedMessagesPerPartition: 1000,
      unavailableTimeoutMs: 60_000,
    })
    // a generous default, so that a process() that never settles is never a silent hang
    expect(o.processTimeoutMs).toBe(300_000)
    // failing process() stops the processor unless the job asks for dead letters
    expect(o.onProcessError).toBe('fail')
    expect(o.guarantee).toBe('at-least-once')
    expect(o.isolationLevel).toBe('read_committed')
    expect(o.deadLetter).toEqual({
      topic: 'unit.dlq',
      retries: 2,
      retryBackoffMs: 500,
      maxDeadLetters: 100,
      maxDeadLetterRatio: 0.5,
      windowMs: 60_000,
    })
  })

  it.each([
    ['inputTopics', { inputTopics: [] }, 'at least one topic'],
    ['inputTopics', { inputTopics: ['a', 'a'] }, 'must not repeat'],
    ['inputTopics.0', { inputTopics: [''] }, 'must not be empty'],
    ['inputPartitions', { inputPartitions: [] }, 'at least one partition'],
    ['inputPartitions', { inputPartitions: [1, 1] }, 'must not repeat'],
    ['inputPartitions.1', { inputPartitions: [0, -1] }, '>= 0'],
    ['inputPartitions.0', { inputPartitions: [0.5] }, 'integers'],
    ['batchSize', { batchSize: 0 }, 'batchSize must be > 0'],
    ['batchSize', { batchSize: 1.5 }, 'batchSize must be an integer'],
    ['batchSize', { batchSize: '10' }, 'batchSize must be a number'],
    ['batchSize', { batchSize: 1_000_001 }, 'batchSize must be <= 1000000'],
    ['batchWaitMs', { batchWaitMs: -5 }, 'batchWaitMs must be > 0'],
    ['metricsUpdateIntervalMs', { metricsUpdateIntervalMs: 0 }, '> 0'],
    ['processTimeoutMs', { processTimeoutMs: 0 }, '> 0'],
    ['initialOffset', { initialOffset: 'newest' }, ''],
    ['offsetReset', { offsetReset: 'skip' }, ''],
    [
      'isolationLevel',
      { isolationLevel: 'committed' },
      "isolationLevel must be 'read_committed' or 'read_uncommitted'",
    ],
    ['guarantee', { guarantee: 'exactly_once' }, "guarantee must be 'at-least-once' or 'exactly-once'"],
    ['transactionTimeoutMs', { transactionTimeoutMs: 1_000_000 }, 'transactionTimeoutMs must be <= 900000'],
    ['onProcessError', { onProcessError: 'skip' }, "onProcessError must be 'fail' or 'dead-letter'"],
    ['deadLetter.retries', { deadLetter: { retries: -1 } }, 'deadLetter.retries must be >= 0'],
    ['deadLetter.retries', { deadLetter: { retries: 11 } }, 'deadLetter.retries must be <= 10'],
    ['deadLetter.retryBackoffMs', { deadLetter: { retryBackoffMs: 0 } }, 'deadLetter.retryBackoffMs must be > 0'],
    ['deadLetter.maxDeadLetterRatio', { deadLetter: { maxDeadLetterRatio: 0 } }, 'must be > 0'],
    ['deadLetter.maxDeadLetterRatio', { deadLetter: { maxDeadLetterRatio: 1.5 } }, 'must be <= 1'],
    ['deadLetter.topic', { deadLetter: { topic: '' } }, 'deadLetter.topic must not be empty'],
    ['deadLetter.retry', { deadLetter: { retry: 3 } }, 'unknown option'],
    ['topicProcessorName', { topicProcessorName: '' }, 'A-Z a-z 0-9'],
    ['topicProcessorName', { topicProcessorName: 'has space' }, 'A-Z a-z 0-9'],
    ['kafka', { kafka: { brokers: ['x'] } }, 'kafkajs Kafka instance'],
    ['logger', { logger: console }, 'debug/info/warn/error/child'],
    ['metrics', { metrics: {} }, 'counter/gauge/histogram'],
    ['batchsize', { batchsize: 10 }, 'unknown option'],
  ])('rejects a bad %s with an error naming the field', (field, patch, message) => {
    const issues = issuesOf({ ...valid, ...patch })
    expect(Object.keys(issues)).toContain(field)
    expect(issues[field]).toContain(message)
  })

  it('reports every bad field at once', () => {
    const issues = issuesOf({ ...valid, batchSize: 0, batchWaitMs: 0, inputTopics: [] })
    expect(Object.keys(issues).sort()).toEqual(['batchSize', 'batchWaitMs', 'inputTopics'])
  })

  it('the constructor validates before any I/O and names the component', () => {
    expect(() => new TopicProcessor({ ...valid, batchSize: -1 } as TopicProcessorOptions, () => noop)).toThrow(
      /invalid TopicProcessor options: batchSize: batchSize must be > 0/,
    )
    expect(() => new TopicProcessor(valid, 'nope' as never)).toThrow(TypeError)
  })

  it('group assignment: a worker waiting for its first partitions has none and the not-joined generation (-1), and only then', () => {
    const waiting = { ...valid, inputPartitions: [], groupGeneration: { generationId: -1, memberId: '' } }
    expect(resolveTopicProcessorOptions(waiting).inputPartitions).toEqual([])
    // a member's later generation may leave a worker with nothing too
    expect(
      resolveTopicProcessorOptions({
        ...valid,
        inputPartitions: [],
        groupGeneration: { generationId: 4, memberId: 'm' },
      }).inputPartitions,
    ).toEqual([])
    const notJoinedWithPartitions = issuesOf({ ...waiting, inputPartitions: [0] })
    expect(notJoinedWithPartitions.inputPartitions).toContain('must be empty before the member joined')
    expect(issuesOf({ ...valid, groupGeneration: { generationId: 3, memberId: '' } }).groupGeneration).toContain(
      'memberId must not be empty once the member has joined',
    )
    expect(
      issuesOf({ ...valid, groupGeneration: { generationId: -2, memberId: 'm' } })['groupGeneration.generationId'],
    ).toContain('>= -1')
  })

  it('the consumer group is kasper-topic-processor-<name>', () => {
    expect(new TopicProcessor({ ...valid, topicProcessorName: 'hari-seldon' }, () => noop).groupId).toBe(
      'kasper-topic-processor-hari-seldon',
    )
  })
})
