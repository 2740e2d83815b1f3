import { describe, expect, it } from 'vitest'
import { generateSample } from '../../examples/twitter-reach/generator.js'
import {
  type FollowEvent,
  type Followers,
  ReachProcessor,
  type Tweet,
} from '../../examples/twitter-reach/reach-processor.js'
import { type IncomingMessage, jsonCodec, type MessageProcessor, RedisStore, type Sender } from '../../src/index.js'
import { committedTotal, createKafka, createTopics, produce, readTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'
import { useRedis } from '../helpers/redis.js'

const client = useRedis()

/** Reach by event time, computed from the data alone. */
function expectedReach(followers: FollowEvent[], tweets: Tweet[]): Map<string, number> {
  const firstFollow = new Map<string, Map<string, number>>()
  for (const f of followers) {
    const map = firstFollow.get(f.user) ?? new Map<string, number>()
    map.set(f.follower, Math.min(map.get(f.follower) ?? Number.POSITIVE_INFINITY, f.at))
    firstFollow.set(f.user, map)
  }
  return new Map(
    tweets.map((t) => [t.id, [...(firstFollow.get(t.user)?.values() ?? [])].filter((at) => at <= t.at).length]),
  )
}

describe('examples/twitter-reach on the real broker and Redis', () => {
  it('emits every tweet’s reach exactly, and a replayed batch re-emits the same values', async () => {
    const kafka = createKafka()
    const name = uniqueName('reach')
    const topics = { tweets: `${name}-tweets`, followers: `${name}-followers`, reach: `${name}-reach` } as const
    await createTopics(kafka, Object.values(topics), 4)
    const sample = generateSample({ users: 150, follows: 1500, tweets: 400, seed: 7 })
    const follows = sample.followers.map((m) => JSON.parse(String(m.value)) as FollowEvent)
    const tweets = sample.tweets.map((m) => JSON.parse(String(m.value)) as Tweet)
    const expected = expectedReach(follows, tweets)
    const store = new RedisStore<Followers>({
      redis: client(),
      prefix: `${name}/followers`,
      codec: jsonCodec<Followers>(),
    })
    const group = `kasper-topic-processor-${name}`
    const options = {
      topicProcessorName: name,
      kafka,
      inputTopics: [topics.tweets, topics.followers],
      inputPartitions: [0, 1, 2, 3],
      batchSize: 100,
    }

    // every follow is processed before the first tweet is produced, so reach is exact
    await produce(kafka, topics.followers, sample.followers)
    let crashed = false
    const reach = new ReachProcessor(store, topics)
    // the first batch with tweets crashes after writing state and producing: it will be replayed
    const crashing: MessageProcessor = {
      async process(messages: readonly IncomingMessage[], sender: Sender) {
        await reach.process(messages, sender)
        if (!crashed && messages.some((m) => m.topic === topics.tweets)) {
          crashed = true
          await sender.flush()
          throw new Error('crash after state and output, before commit')
        }
      },
    }
    const first = start(options, crashing)
    await waitFor(async () => {
      return (await committedTotal(kafka, group, topics.followers)) === sample.followers.length || undefined
    })
    await produce(kafka, topics.tweets, sample.tweets)
    expect(((await first.run) as Error).message).toMatch(/crash after state and output/)

    const second = start(options, new ReachProcessor(store, topics))
    await waitFor(async () => {
      return (await committedTotal(kafka, group, topics.tweets)) === tweets.length || undefined
    }, 30_000)
    await second.tp.close()
    expect(await second.run).toBeUndefined()

    const out = await readTopic(kafka, topics.reach, tweets.length)
    const byTweet = new Map<string, Set<number>>()
    for (const m of out) {
      const value = JSON.parse(String(m.value)) as { tweet: string; reach: number }
      expect(m.key).toBe(value.tweet)
      byTweet.set(value.tweet, (byTweet.get(value.tweet) ?? new Set()).add(value.reach))
    }
    expect(byTweet.size).toBe(tweets.length)
    for (const [tweet, values] of byTweet) expect([...values]).toEqual([expected.get(tweet)])
    expect([...expected.values()].some((r) => r > 10)).toBe(true)
  })
})
