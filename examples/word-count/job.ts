/** `kasper run dist/examples/word-count/job.js`: counts words from `words` into Redis. */
import { jsonCodec, RedisStore } from '../../src/index.js'
import { defineJob, range } from '../../workers/job.js'
import { WordCountProcessor, type WordState } from './word-count-processor.js'

export default defineJob({
  topicProcessorName: 'word-count',
  kafka: { brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), clientId: 'word-count' },
  inputTopics: ['words'],
  inputPartitions: range(0, Number(process.env.WORD_COUNT_PARTITIONS ?? 4)),
  batchSize: 1000,
  batchWaitMs: 500,
  async createProcessor(ctx) {
    const counts = new RedisStore<WordState>({
      redis: await ctx.redis(),
      prefix: 'word-count/count',
      codec: jsonCodec<WordState>(),
      metrics: ctx.metrics, // kasper_store_* series, by slice
    })
    return new WordCountProcessor(counts)
  },
})
