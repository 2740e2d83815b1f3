/** Opening a TopicProcessor: failures are typed, and ready() always settles. */
import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError, StoreError, TopicProcessor } from '../../src/index.js'
import { silentLogger } from '../../src/logging/logger.js'
import { createKafka, createTopics, uniqueName } from '../helpers/kafka.js'

const options = (kafka: Kafka, topic: string) => ({
  topicProcessorName: uniqueName('life'),
  kafka,
  inputTopics: [topic],
  inputPartitions: [0],
})
const noop = { process() {} }

describe('TopicProcessor start-up', () => {
  it('an unreachable broker is retried for unavailableTimeoutMs, then KASPER_CONNECT_FAILED (retriable, with the client error as cause); ready() rejects with it', async () => {
    const kafka = new Kafka({
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 200,
      retry: { retries: 0 },
    })
    const warnings: unknown[] = []
    const logger = { ...silentLogger, warn: (fields: unknown) => void warnings.push(fields), child: () => logger }
    const tp = new TopicProcessor({ ...options(kafka, 'anything'), unavailableTimeoutMs: 1500, logger }, () => noop)
    const ready = tp.ready().then(
      () => 'ready',
      (e: unknown) => e,
    )
    const error = await tp.runLoop().catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.CONNECT_FAILED)).toBe(true)
    expect((error as KasperError).retriable).toBe(true)
    expect((error as Error).message).toMatch(/^connecting to Kafka failed: .*ECONNREFUSED|Connection error/)
    expect((error as Error).cause).toBeDefined()
    expect(await ready).toBe(error)
    // retried, a warning per attempt
    expect(warnings.length).toBeGreaterThanOrEqual(2)
  })

  it('close() while start-up retries an unreachable broker ends the retries as a stop: runLoop() resolves, ready() rejects with KASPER_CLOSED', async () => {
    const kafka = new Kafka({
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 200,
      retry: { retries: 0 },
    })
    let retrying: () => void = () => {}
    const firstRetry = new Promise<void>((r) => {
      retrying = r
    })
    const logger = { ...silentLogger, warn: () => retrying(), child: () => logger }
    const tp = new TopicProcessor({ ...options(kafka, 'anything'), unavailableTimeoutMs: 600_000, logger }, () => noop)
    const ready = tp.ready().catch((e: unknown) => e)
    const run = tp.runLoop().then(
      () => 'stopped',
      (e: unknown) => e,
    )
    await firstRetry
    await tp.close()
    // nothing was read and nothing is left to commit: a stop, not a failure (a daemon's slice asked to
    // stop while a broker is down does not count as a failed slice)
    expect(await run).toBe('stopped')
    expect(KasperError.is(await ready, ErrorCodes.CLOSED)).toBe(true)
  }, 20_000)

  it('close() before runLoop(): ready() rejects with KASPER_CLOSED instead of hanging', async () => {
    const tp = new TopicProcessor(options(createKafka(), 'anything'), () => noop)
    const ready = tp.ready().catch((e: unknown) => e)
    await tp.close()
    expect(KasperError.is(await ready, ErrorCodes.CLOSED)).toBe(true)
  })

  it('a factory that fails (its store is down) names the cause in the first line and is retriable', async () => {
    const kafka = createKafka()
    const topic = uniqueName('factory')
    await createTopics(kafka, [topic], 1)
    const tp = new TopicProcessor(options(kafka, topic), () => {
      throw new StoreError('connect', 'Redis at 127.0.0.1:1 refused the connection')
    })
    const error = await tp.runLoop().catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.PROCESSOR_MISSING)).toBe(true)
    expect((error as Error).message.split('\n')[0]).toMatch(
      /creating the MessageProcessor for partition 0 failed: store connect failed: Redis at 127.0.0.1:1 refused/,
    )
    expect((error as KasperError).retriable).toBe(true)
  })
})
