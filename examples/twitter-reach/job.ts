/**
 * The twitter-reach job as Kasper's README configured it: `kasper run dist/examples/twitter-reach/job.js --workers 3`.
 * KAFKA_BROKERS and REDIS_URL override the local defaults; TWITTER_REACH_KEY_PREFIX the Redis key
 * prefix of its state (default `twitter-reach/followers`; the demo uses one per Kafka port).
 */
import { jsonCodec, RedisStore } from '../../src/index.js'
import { defineJob, range } from '../../workers/job.js'
import { type Followers, ReachProcessor, TOPICS } from './reach-processor.js'

export const PARTITIONS = 12

export default defineJob({
  topicProcessorName: 'twitter-reach',
  kafka: { brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), clientId: 'twitter-reach' },
  inputTopics: [TOPICS.tweets, TOPICS.followers],
  inputPartitions: range(0, PARTITIONS),
  batchSize: 10_000,
  batchWaitMs: 1_000,
  logLevel: 'warn',
  async createProcessor(ctx) {
    const followers = new RedisStore<Followers>({
      redis: await ctx.redis(),
      prefix: process.env.TWITTER_REACH_KEY_PREFIX ?? 'twitter-reach/followers',
      codec: jsonCodec<Followers>(),
      metrics: ctx.metrics,
    })
    return new ReachProcessor(followers)
  },
})
