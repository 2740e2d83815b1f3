/**
 * The store-outage scenario shared by the Redis, OpenSearch and Cassandra outage tests: a stateful
 * job (latest value per key: one getAll and one putAll per batch, an output per input) whose store
 * server dies as the third batch starts. That batch fails with a StoreError cause and nothing of it
 * is committed; once the server is back, a rerun converges to the right state and every input has
 * exactly one output.
 */
import { expect } from 'vitest'
import type { BatchError, IncomingMessage, KeyValueStore, MessageProcessor, Sender } from '../../src/index.js'
import { ErrorCodes, StoreError } from '../../src/index.js'
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

/** Latest value per key, kept in the store: one getAll, one putAll per batch; an output per input. */
class LatestValue implements MessageProcessor {
  batches = 0
  constructor(
    private readonly store: KeyValueStore<string>,
    private readonly output: string,
    private readonly onBatch: (n: number) => Promise<void> | void = () => {},
  ) {}
  async process(messages: readonly IncomingMessage[], sender: Sender) {
    await this.onBatch(++this.batches)
    const keys = [...new Set(messages.map((m) => String(m.key)))]
    const state = await this.store.getAll(keys)
    for (const m of messages) state.set(String(m.key), String(m.value))
    await this.store.putAll(state)
    for (const m of messages) sender.send({ topic: this.output, key: m.key, value: `${m.key}=${m.value}` })
  }
}

export interface OutageServer {
  /** Names of this test's topics and job start with it. */
  prefix: string
  /** A store on the running server (with a short timeout, so the outage shows as a StoreError). */
  store: () => Promise<KeyValueStore<string>>
  /** Ends the server abruptly (called as the third batch starts). */
  kill: () => unknown
  restart: () => unknown
  /** How long the rerun may take to commit everything. */
  rerunTimeoutMs?: number
}

export async function storeOutageScenario(server: OutageServer): Promise<void> {
  const kafka = createKafka()
  const [input, output] = [uniqueName(`${server.prefix}-in`), uniqueName(`${server.prefix}-out`)]
  await createTopics(kafka, [input, output], 1)
  const messages = Array.from({ length: 40 }, (_, i) => ({ key: `user-${i % 7}`, value: String(i) }))
  await produce(kafka, input, messages)
  const name = uniqueName(server.prefix)
  const group = `kasper-topic-processor-${name}`

  // the server dies as the third batch starts: batches 1 and 2 are committed, 3 fails
  const processor1 = new LatestValue(await server.store(), output, async (n) => {
    if (n === 3) await server.kill()
  })
  const job = { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 10 }
  const error = (await start(job, processor1).run) as BatchError
  expect(error.code).toBe(ErrorCodes.PROCESS_FAILED)
  expect(error.cause).toBeInstanceOf(StoreError)
  expect(error.offsets).toEqual({ [input]: { first: '20', last: '29' } })
  expect((await committedOffsets(kafka, group, input)).get(0)).toBe('20')

  await server.restart()
  const store2 = await server.store()
  const second = start(job, new LatestValue(store2, output))
  await waitFor(
    async () => (await committedOffsets(kafka, group, input)).get(0) === '40' || undefined,
    server.rerunTimeoutMs ?? 20_000,
  )
  await second.tp.close()
  expect(await second.run).toBeUndefined()

  const expected = new Map<string, string>()
  for (const m of messages) expected.set(m.key, m.value)
  expect(Object.fromEntries(await store2.getAll(expected.keys()))).toEqual(Object.fromEntries(expected))
  const out = await readTopic(kafka, output, 40)
  // every input has its output; nothing of the failed batch was produced
  expect(new Set(out.map((m) => m.value)).size).toBe(40)
  expect(out).toHaveLength(40)
}
