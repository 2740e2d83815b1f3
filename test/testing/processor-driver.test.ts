/**
 * kasper-ts/testing on the examples: what a user's unit tests look like (docs/testing.md). No
 * broker, no Redis: a MemoryStore holds the state.
 */
import { describe, expect, it } from 'vitest'
import { type Followers, ReachProcessor } from '../../examples/twitter-reach/reach-processor.js'
import { WordCountProcessor, type WordState } from '../../examples/word-count/word-count-processor.js'
import { ErrorCodes, jsonCodec, KasperError } from '../../src/index.js'
import { MemoryStore, ProcessorTestDriver } from '../../src/testing/index.js'

const words = (text: string) => text.split(' ').map((w) => ({ key: w, value: w }))
const values = (driver: ProcessorTestDriver, topic: string) => driver.output(topic).map((m) => String(m.value))

function wordCount(batchSize = 3) {
  const store = new MemoryStore<WordState>({ prefix: 'counts', codec: jsonCodec<WordState>() })
  const driver = new ProcessorTestDriver(() => new WordCountProcessor(store, 'counts'), { batchSize })
  return { store, driver }
}

describe('ProcessorTestDriver', () => {
  it('runs batches of batchSize, produces what process() sent and commits after each batch', async () => {
    const { store, driver } = wordCount()
    driver.input('words', 0, words('the fox the dog the'))
    const runs = await driver.runAll(0)
    expect(runs.map((r) => r.messages.length)).toEqual([3, 2])
    expect(runs[0]?.committed).toEqual({ words: '3' })
    expect(driver.committed('words', 0)).toBe(5)
    expect(values(driver, 'counts')).toEqual([
      'the has been seen 1 times',
      'fox has been seen 1 times',
      'the has been seen 2 times',
      'dog has been seen 1 times',
      'the has been seen 3 times',
    ])
    expect(runs[0]?.flushes).toEqual([3]) // the example flushes inside process(), before its state write
    expect((await store.get('the'))?.count).toBe(3)
  })

  it('a replayed batch (a commit lost in a crash) changes no state and re-emits nothing new', async () => {
    const { store, driver } = wordCount(10)
    driver.input('words', 0, words('a b a'))
    await driver.runBatch(0)
    const replay = await driver.replay()
    expect(replay.sent).toEqual([]) // the offset guard skips what was applied
    expect((await store.get('a'))?.count).toBe(2)
  })

  it('a crash after the produce, before the commit: the next run replays the batch, and the counts stay exact', async () => {
    const { store, driver } = wordCount(10)
    driver.input('words', 0, words('x y x'))
    await driver.crashAfterProduce(0)
    expect(driver.committed('words', 0)).toBe(0)
    await driver.runBatch(0)
    expect(driver.committed('words', 0)).toBe(3)
    expect((await store.get('x'))?.count).toBe(2)
    expect(new Set(values(driver, 'counts'))).toEqual(
      new Set(['x has been seen 1 times', 'y has been seen 1 times', 'x has been seen 2 times']),
    )
  })

  it('hands a partition’s messages of every input topic to one call, in the order they were put in', async () => {
    const store = new MemoryStore<Followers>({ prefix: 'followers', codec: jsonCodec<Followers>() })
    const driver = new ProcessorTestDriver(() => new ReachProcessor(store))
    driver.input('twitter-followers', 0, [
      { key: 'ann', value: JSON.stringify({ user: 'ann', follower: 'bob', at: 1 }) },
    ])
    driver.input('tweets', 0, [{ key: 'ann', value: JSON.stringify({ id: 't1', user: 'ann', text: 'hi', at: 2 }) }])
    driver.input('twitter-followers', 0, [
      { key: 'ann', value: JSON.stringify({ user: 'ann', follower: 'cy', at: 3 }) },
    ])
    const run = await driver.runBatch(0)
    expect(run.messages.map((m) => m.topic)).toEqual(['twitter-followers', 'tweets', 'twitter-followers'])
    expect(run.committed).toEqual({ 'twitter-followers': '2', tweets: '1' })
    expect(driver.output('tweet-reach').map((m) => JSON.parse(String(m.value)))).toEqual([
      { tweet: 't1', user: 'ann', reach: 1 },
    ])
  })

  it('output a broker would refuse fails the batch as the TopicProcessor would, committing nothing', async () => {
    const driver = new ProcessorTestDriver(() => ({
      process(_messages, sender) {
        sender.send({ topic: 'out', value: 42 as unknown as string })
      },
    }))
    driver.input('in', 1, [{ value: 'x' }])
    const error = await driver.runBatch(1).catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.OUTPUT_INVALID)).toBe(true)
    expect(driver.committed('in', 1)).toBe(0)
    expect(driver.output('out')).toEqual([])
  })
})
