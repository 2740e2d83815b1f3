/**
 * `kasper run dist/examples/reach-index/job.js`: indexes the `tweet-reach` topic (twitter-reach's
 * output) into the `tweet-reach` index. KAFKA_BROKERS and OPENSEARCH_URL (default
 * http://127.0.0.1:9200; any Elasticsearch 7/8 or OpenSearch 1/2) override the local defaults.
 */
import { ElasticsearchStore, jsonCodec } from '../../src/index.js'
import { defineJob, range } from '../../workers/job.js'
import { PARTITIONS } from '../twitter-reach/job.js'
import { type Reach, TOPICS } from '../twitter-reach/reach-processor.js'
import { ReachIndexProcessor } from './reach-index-processor.js'

export default defineJob({
  topicProcessorName: 'reach-index',
  kafka: { brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), clientId: 'reach-index' },
  inputTopics: [TOPICS.reach],
  inputPartitions: range(0, PARTITIONS),
  batchSize: 5_000,
  batchWaitMs: 1_000,
  createProcessor: (ctx) =>
    new ReachIndexProcessor(
      new ElasticsearchStore<Reach>({
        node: process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200',
        index: 'tweet-reach',
        document: 'json', // searchable documents
        codec: jsonCodec<Reach>(),
        metrics: ctx.metrics,
      }),
    ),
})
