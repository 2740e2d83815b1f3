import { describe, expect, it } from 'vitest'
import { WordCountProcessor, type WordState } from '../../examples/word-count/word-count-processor.js'
import { jsonCodec, type KeyValueStore, type MessageProcessor, RedisStore } from '../../src/index.js'
import { committedTotal, createKafka, createTopics, produce, readTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'
import { useRedis } from '../helpers/redis.js'

const client = useRedis()

const text = 'the quick brown fox jumps over the lazy dog the fox sleeps and the dog barks at the quick fox'
const words = text.split(' ')

function expectedOutputs(): string[] {
  const seen = new Map<string, number>()
  return words.map((w) => {
    const n = (seen.get(w) ?? 0) + 1
    seen.set(w, n)
    return `${w} has been seen ${n} times`
  })
}

/** Fails the first putAll after `afterCalls` successful ones. */
function failingOnce(store: KeyValueStore<WordState>, afterCalls: number): KeyValueStore<WordState> {
  let calls = 0
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putAll') {
        return async (...args: Parameters<KeyValueStore<WordState>['putAll']>) => {
          if (calls++ === afterCalls) throw new Error('Redis went away during putAll')
          return target.putAll(...args)
        }
      }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

type FirstRun = (store: KeyValueStore<WordState>, output: string) => MessageProcessor

async function runCase(firstRun: FirstRun) {
  const kafka = createKafka()
  const name = uniqueName('words')
  const [input, output] = [`${name}-words`, `${name}-counts`]
  await createTopics(kafka, [input, output], 2)
  await produce(
    kafka,
    input,
    words.map((w) => ({ key: w, value: w })),
  )
  const store = new RedisStore<WordState>({ redis: client(), prefix: `${name}/count`, codec: jsonCodec<WordState>() })
  const options = { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0, 1], batchSize: 5 }
  const first = start(options, firstRun(store, output))
  expect(((await first.run) as Error).message).toMatch(/Redis went away|crash after the state write/)
  const second = start(options, new WordCountProcessor(store, output))
  await waitFor(async () => {
    return (await committedTotal(kafka, `kasper-topic-processor-${name}`, input)) === words.length || undefined
  })
  await second.tp.close()
  expect(await second.run).toBeUndefined()
  const out = (await readTopic(kafka, output, words.length)).map((m) => m.value as string)
  const counts = await store.getAll(new Set(words))
  return { out, counts }
}

describe('examples/word-count on the real broker and Redis', () => {
  it('counts exactly; a batch that fails between its produce and its state write is replayed with identical outputs', async () => {
    const { out, counts } = await runCase((store, output) => new WordCountProcessor(failingOnce(store, 1), output))
    // duplicates, if any, are identical re-emissions; every count appears
    expect([...new Set(out)].sort()).toEqual(expectedOutputs().sort())
    expect(counts.get('the')?.count).toBe(5)
    expect(counts.get('fox')?.count).toBe(3)
    expect(counts.get('barks')?.count).toBe(1)
  })

  it('a batch that crashes after its state write is skipped on replay: every count is emitted exactly once', async () => {
    const { out, counts } = await runCase((store, output) => {
      const inner = new WordCountProcessor(store, output)
      let crashed = false
      return {
        async process(messages, sender) {
          await inner.process(messages, sender)
          if (!crashed) {
            crashed = true
            throw new Error('crash after the state write, before the commit')
          }
        },
      }
    })
    expect(out.sort()).toEqual(expectedOutputs().sort())
    expect(counts.get('the')?.count).toBe(5)
  })
})
