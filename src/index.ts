/**
 * kasper-ts: Kafka micro-batch processing with static partitions, partition-wise joins,
 * output-before-commit (at-least-once) and state in Redis.
 */
export {
  BatchError,
  type BatchPosition,
  ConfigError,
  type ConfigIssue,
  type ErrorCode,
  ErrorCodes,
  FetchError,
  KasperError,
  OffsetOutOfRangeError,
  OutputError,
  type OutputErrorCode,
  PartitionOverlapError,
  ProcessorMissingError,
  type SerializedError,
  StoreError,
  serializeError,
  TopicLayoutError,
} from './errors.js'
export { kafkajsLogCreator } from './kafka/kafkajs-logger.js'
export {
  type JsonLoggerOptions,
  jsonLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
  type TextLoggerOptions,
  textLogger,
} from './logging/index.js'
export {
  type Counter,
  type Gauge,
  type Histogram,
  type Labels,
  type MetricsProvider,
  NoopMetrics,
  PrometheusMetrics,
  type PrometheusMetricsOptions,
} from './metrics/index.js'
export {
  type ReplayOptions,
  type ReplayResult,
  replayDeadLetters,
  replayGroupId,
} from './processor/dead-letter-replay.js'
export { DeadLetterHeaders } from './processor/dead-letters.js'
export { consumerGroupId, TopicProcessor, type TopicProcessorOptions } from './processor/index.js'
export {
  bufferCodec,
  type CassandraClient,
  CassandraMultiStore,
  CassandraStore,
  type CassandraStoreOptions,
  type Codec,
  createRedisClient,
  ElasticsearchMultiStore,
  type ElasticsearchMultiStoreOptions,
  ElasticsearchStore,
  type ElasticsearchStoreOptions,
  jsonCodec,
  type KeyValueStore,
  MemoryMultiStore,
  MemoryStore,
  type MemoryStoreOptions,
  type MultiStore,
  type PutOptions,
  RedisMultiStore,
  RedisStore,
  type RedisStoreOptions,
  STORE_CLIENT_OPTIONS,
  stringCodec,
  type TenantKey,
  TenantMap,
} from './stores/index.js'
export type {
  BatchContext,
  IncomingMessage,
  MessageProcessor,
  MessageProcessors,
  OutgoingMessage,
  Sender,
} from './types.js'
