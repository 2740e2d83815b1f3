/**
 * Opening a TopicProcessor's session: check the input layout, create the processors, connect to
 * Kafka (metadata and offsets, fetches, produce: three protocol-level clusters), read the committed
 * offsets and log bounds, and resolve where each topic-partition starts.
 */
import { ErrorCodes, KasperError, ProcessorMissingError } from '../errors.js'
import { createCluster, type KafkaCluster } from '../kafka/cluster.js'
import { fetchLogBounds, GroupOffsets } from '../kafka/offsets.js'
import { PartitionReader } from '../kafka/partition-reader.js'
import { OutputProducer } from '../kafka/producer.js'
import { checkTopicLayout } from '../kafka/topic-layout.js'
import { type TopicPartition, topicPartitions, tpKey } from '../kafka/topic-partitions.js'
import { mayRecover } from '../kafka/transient-errors.js'
import type { Logger } from '../logging/logger.js'
import type { MessageProcessor, MessageProcessors } from '../types.js'
import type { ResolvedTopicProcessorOptions } from './options.js'
import { resolveStartOffsets } from './start-offsets.js'

export interface Session {
  /** Offsets, log bounds and metadata. */
  cluster: KafkaCluster
  /**
   * Fetches only. Kafka answers a connection's requests in order, so a commit sent behind a fetch
   * that the broker holds for fetchMaxWaitMs would wait for it: fetches get their own connections.
   */
  fetchCluster: KafkaCluster
  producer: OutputProducer
  offsets: GroupOffsets
  reader: PartitionReader
  processors: Map<number, MessageProcessor>
  /** Every input topic-partition this processor reads. */
  partitions: TopicPartition[]
  /** Next offset to process, per topic-partition: what is (or will be) committed. */
  committed: Map<string, string>
  /** Topic-partitions this instance has committed at least once. */
  committedByUs: Set<string>
  highWatermarks: Map<string, string>
}

export async function openSession(
  options: ResolvedTopicProcessorOptions,
  groupId: string,
  source: MessageProcessors,
  logger: Logger,
): Promise<Session> {
  const { kafka, inputTopics, inputPartitions } = options
  await checkTopicLayout(kafka, inputTopics, inputPartitions)
  const processors = await resolveProcessors(source, inputPartitions)
  const cluster = createCluster(kafka)
  const fetchCluster = createCluster(kafka)
  const producer = OutputProducer.create(kafka, { unavailableTimeoutMs: options.unavailableTimeoutMs, logger })
  try {
    await Promise.all([cluster.connect(), fetchCluster.connect()])
    await Promise.all([
      cluster.addMultipleTargetTopics([...inputTopics]),
      fetchCluster.addMultipleTargetTopics([...inputTopics]),
    ])
    await producer.connect()
    const offsets = new GroupOffsets(cluster, groupId, options.unavailableTimeoutMs, options.groupGeneration)
    const all = topicPartitions(inputTopics, inputPartitions)
    const [committed, bounds] = await Promise.all([offsets.fetchCommitted(all), fetchLogBounds(cluster, all)])
    const start = resolveStartOffsets(all, committed, bounds, options, logger)
    for (const s of start) {
      logger.info(
        {
          topic: s.topic,
          partition: s.partition,
          offset: s.offset,
          source: s.source,
          highWatermark: bounds.get(tpKey(s.topic, s.partition))?.end,
        },
        'consuming topic-partition',
      )
    }
    const reader = new PartitionReader(fetchCluster, start, {
      maxWaitMs: options.fetchMaxWaitMs,
      maxBytes: options.fetchMaxBytes,
      maxBytesPerPartition: options.fetchMaxBytesPerPartition,
      unavailableTimeoutMs: options.unavailableTimeoutMs,
    })
    return {
      cluster,
      fetchCluster,
      producer,
      offsets,
      reader,
      processors,
      partitions: all,
      committed: new Map(start.map((s) => [tpKey(s.topic, s.partition), s.offset])),
      committedByUs: new Set(),
      highWatermarks: new Map([...bounds].map(([k, b]) => [k, b.end])),
    }
  } catch (error) {
    await Promise.allSettled([producer.disconnect(), cluster.disconnect(), fetchCluster.disconnect()])
    throw error
  }
}

async function resolveProcessors(
  source: MessageProcessors,
  partitions: readonly number[],
): Promise<Map<number, MessageProcessor>> {
  const resolved = new Map<number, MessageProcessor>()
  for (const partition of partitions) {
    let processor: unknown
    try {
      processor = typeof source === 'function' ? await source(partition) : source.get(partition)
    } catch (error) {
      throw new ProcessorMissingError(partition, error)
    }
    if (!isProcessor(processor)) throw new ProcessorMissingError(partition)
    resolved.set(partition, processor)
  }
  return resolved
}

export function isProcessor(value: unknown): value is MessageProcessor {
  return typeof value === 'object' && value !== null && typeof (value as MessageProcessor).process === 'function'
}

/** A failure to reach Kafka while opening (no broker answers, authentication refused): typed, with its cause. */
export function connectFailed(error: unknown): KasperError {
  const retriable = mayRecover(error)
  return new KasperError(
    ErrorCodes.CONNECT_FAILED,
    `connecting to Kafka failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error, retriable },
  )
}
