import { afterAll, describe, expect, it } from 'vitest'
import {
  type BatchError,
  createRedisClient,
  ErrorCodes,
  type IncomingMessage,
  type MessageProcessor,
  RedisStore,
  type Sender,
  StoreError,
  stringCodec,
} from '../../src/index.js'
import {
  committedOffsets,
  createKafka,
  createTopics,
  produce,
  readTopic,
  uniqueName,
  waitFor,
} from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'
import { PrivateRedis } from '../helpers/redis-server.js'

const server = new PrivateRedis(16391 + (process.pid % 1000))
afterAll(() => server.stop())

/** Latest value per key, kept in Redis: one getAll, one putAll per batch; an output per input. */
class LatestValue implements MessageProcessor {
  batches = 0
  constructor(
    private readonly store: RedisStore<string>,
    private readonly output: string,
    private readonly onBatch: (n: number) => void = () => {},
  ) {}
  async process(messages: readonly IncomingMessage[], sender: Sender) {
    this.onBatch(++this.batches)
    const keys = [...new Set(messages.map((m) => String(m.key)))]
    const state = await this.store.getAll(keys)
    for (const m of messages) state.set(String(m.key), String(m.value))
    await this.store.putAll(state)
    for (const m of messages) sender.send({ topic: this.output, key: m.key, value: `${m.key}=${m.value}` })
  }
}

describe('a Redis outage mid-run', () => {
  it('fails the batch with a StoreError cause, commits nothing of it, and a rerun converges to the right state', async () => {
    server.start()
    const kafka = createKafka()
    const [input, output] = [uniqueName('outage-in'), uniqueName('outage-out')]
    await createTopics(kafka, [input, output], 1)
    const messages = Array.from({ length: 40 }, (_, i) => ({ key: `user-${i % 7}`, value: String(i) }))
    await produce(kafka, input, messages)
    const name = uniqueName('outage')
    const prefix = uniqueName('latest')

    const redis1 = await createRedisClient(server.url)
    const store1 = new RedisStore<string>({ redis: redis1, prefix, codec: stringCodec, timeoutMs: 2000 })
    // Redis dies as the third batch starts: batches 1 and 2 are committed, 3 fails
    const processor1 = new LatestValue(store1, output, (n) => n === 3 && server.kill())
    const first = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 10 },
      processor1,
    )
    const error = (await first.run) as BatchError
    redis1.disconnect()
    expect(error.code).toBe(ErrorCodes.PROCESS_FAILED)
    expect(error.cause).toBeInstanceOf(StoreError)
    expect(error.offsets).toEqual({ [input]: { first: '20', last: '29' } })
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('20')

    server.start()
    const redis2 = await createRedisClient(server.url)
    try {
      const store2 = new RedisStore<string>({ redis: redis2, prefix, codec: stringCodec })
      const processor2 = new LatestValue(store2, output)
      const second = start(
        { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 10 },
        processor2,
      )
      await waitFor(
        async () =>
          (await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0) === '40' || undefined,
      )
      await second.tp.close()
      expect(await second.run).toBeUndefined()

      const expected = new Map<string, string>()
      for (const m of messages) expected.set(m.key, m.value)
      const state = await store2.getAll(expected.keys())
      expect(Object.fromEntries(state)).toEqual(Object.fromEntries(expected))
      const out = await readTopic(kafka, output, 40)
      // every input has its output; nothing of the failed batch was produced
      expect(new Set(out.map((m) => m.value)).size).toBe(40)
      expect(out).toHaveLength(40)
    } finally {
      redis2.disconnect()
    }
  })
})
