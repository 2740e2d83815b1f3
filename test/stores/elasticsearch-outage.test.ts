import { afterAll, describe, expect, it } from 'vitest'
import { openSearchSettings, startOpenSearch, stopOpenSearch } from '../../scripts/lib/opensearch.mjs'
import {
  type BatchError,
  ElasticsearchStore,
  ErrorCodes,
  type IncomingMessage,
  type MessageProcessor,
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

// a node of this test's own, so stopping it disturbs no other test
const settings = openSearchSettings({ OPENSEARCH_URL: `http://127.0.0.1:${19_250 + (process.pid % 500)}` })
afterAll(() => stopOpenSearch(settings))

/** Latest value per key, kept in the index: one getAll, one putAll per batch; an output per input. */
class LatestValue implements MessageProcessor {
  batches = 0
  constructor(
    private readonly store: ElasticsearchStore<string>,
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

describe('an OpenSearch outage mid-run', () => {
  it('fails the batch with a StoreError cause, commits nothing of it, and a rerun converges to the right state', async () => {
    await startOpenSearch({ settings, log: () => {} })
    const kafka = createKafka()
    const [input, output] = [uniqueName('es-outage-in'), uniqueName('es-outage-out')]
    await createTopics(kafka, [input, output], 1)
    const messages = Array.from({ length: 40 }, (_, i) => ({ key: `user-${i % 7}`, value: String(i) }))
    await produce(kafka, input, messages)
    const name = uniqueName('es-outage')
    const index = uniqueName('latest')
    const options = { node: settings.url, index, codec: stringCodec, timeoutMs: 3000 }

    // the node is stopped as the third batch starts: batches 1 and 2 are committed, 3 fails
    const processor1 = new LatestValue(new ElasticsearchStore(options), output, async (n) => {
      if (n === 3) await stopOpenSearch(settings)
    })
    const job = { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0], batchSize: 10 }
    const error = (await start(job, processor1).run) as BatchError
    expect(error.code).toBe(ErrorCodes.PROCESS_FAILED)
    expect(error.cause).toBeInstanceOf(StoreError)
    expect(error.offsets).toEqual({ [input]: { first: '20', last: '29' } })
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('20')

    await startOpenSearch({ settings, log: () => {} })
    const store2 = new ElasticsearchStore(options)
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
  }, 120_000)
})
