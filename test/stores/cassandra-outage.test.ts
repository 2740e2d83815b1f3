import type { Client } from 'cassandra-driver'
import { afterAll, describe, expect, it } from 'vitest'
import { cassandraSettings, startCassandra, stopCassandra } from '../../scripts/lib/cassandra.mjs'
import {
  type BatchError,
  CassandraStore,
  ErrorCodes,
  type IncomingMessage,
  type MessageProcessor,
  type Sender,
  StoreError,
  stringCodec,
} from '../../src/index.js'
import { cassandraClient, TEST_KEYSPACE, tableOf } from '../helpers/cassandra.js'
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

// a node of this test's own, so stopping it disturbs no other test
const settings = cassandraSettings({ CASSANDRA_HOST: `127.0.0.1:${19_442 + (process.pid % 300)}` })
const clients: Client[] = []
afterAll(async () => {
  await Promise.all(clients.map((c) => c.shutdown().catch(() => {})))
  await stopCassandra(settings)
})

/** Latest value per key, kept in Cassandra: one getAll, one putAll per batch; an output per input. */
class LatestValue implements MessageProcessor {
  batches = 0
  constructor(
    private readonly store: CassandraStore<string>,
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

describe('a Cassandra outage mid-run', () => {
  it('fails the batch with a StoreError cause, commits nothing of it, and a rerun converges to the right state', async () => {
    await startCassandra({ settings, log: () => {} })
    const kafka = createKafka()
    const [input, output] = [uniqueName('cql-outage-in'), uniqueName('cql-outage-out')]
    await createTopics(kafka, [input, output], 1)
    const messages = Array.from({ length: 40 }, (_, i) => ({ key: `user-${i % 7}`, value: String(i) }))
    await produce(kafka, input, messages)
    const name = uniqueName('cql-outage')
    const table = tableOf(uniqueName('latest'))
    const store = async () => {
      const client = await cassandraClient(settings.contactPoint, 3000)
      clients.push(client)
      return new CassandraStore({ client, keyspace: TEST_KEYSPACE, table, codec: stringCodec, timeoutMs: 3000 })
    }

    // the node is killed as the third batch starts: batches 1 and 2 are committed, 3 fails
    const processor1 = new LatestValue(await store(), output, async (n) => {
      if (n === 3) await stopCassandra(settings, 'SIGKILL')
    })
    const job = { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 10 }
    const error = (await start(job, processor1).run) as BatchError
    expect(error.code).toBe(ErrorCodes.PROCESS_FAILED)
    expect(error.cause).toBeInstanceOf(StoreError)
    expect(error.offsets).toEqual({ [input]: { first: '20', last: '29' } })
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('20')

    await startCassandra({ settings, log: () => {} })
    const store2 = await store()
    const second = start(job, new LatestValue(store2, output))
    await waitFor(
      async () => (await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0) === '40' || undefined,
      60_000,
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
  }, 180_000)
})
