/**
 * The client seam: everything the TopicProcessor needs from Kafka, as one small interface.
 *
 * The processor loop (src/processor/) sees only these types; a backend implements them. Today's
 * backend (`kafkajsProtocolClient`) drives kafkajs's protocol layer with kasper-ts's own record
 * batch encoder and fetch decoder (docs/design.md says why, with the figures). A second backend
 * (@platformatic/kafka, librdkafka) would implement the same surface and pass the same conformance
 * suite (test/kafka/client-conformance.ts) against the broker and the 3-node cluster.
 */
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs'
import type { Logger } from '../logging/logger.js'
import type { OutgoingMessage } from '../types.js'
import { createCluster } from './cluster.js'
import type { GenerationCell } from './generation.js'
import {
  type CommittedOffset,
  fetchLogBounds,
  GroupOffsets,
  type LogBounds,
  type TopicPartitionOffset,
} from './offsets.js'
import { type FetchedRecords, PartitionReader, type ReaderOptions } from './partition-reader.js'

export type { CommittedOffset, LogBounds, TopicPartitionOffset } from './offsets.js'
export { type FetchedRecords, FetchOffsetOutOfRange, type ReaderOptions } from './partition-reader.js'
/** Whether an error a backend threw may go away on a retry (connection, leadership, coordinator moves). */
export { mayRecover } from './transient-errors.js'

import { OutputProducer } from './producer.js'
import { checkTopicLayout, checkTopicsExist } from './topic-layout.js'
import { TransactionalWriter } from './transactions.js'

export { transactionalIdFor } from './transactions.js'

export interface TopicPartitionRef {
  topic: string
  partition: number
}

/** Reads a set of topic-partitions from given positions (seek adds one, release drops one), with no group membership. */
export interface InputReader {
  /** Next offset to fetch: one past the last record handed over. */
  position(topic: string, partition: number): string
  seek(topic: string, partition: number, offset: string): void
  /** Stops reading a topic-partition (its partition was revoked): a response in flight for it is dropped. */
  release(topic: string, partition: number): void
  /**
   * One round over `wanted`. Positions advance only with what is returned; transient failures are
   * retried within `unavailableTimeoutMs`. An error no retry cures (FetchError, or
   * FetchOffsetOutOfRange for an offset outside the log) is thrown by the next call, after the
   * round's records from healthy leaders were returned.
   */
  fetch(wanted?: readonly TopicPartitionRef[]): Promise<FetchedRecords[]>
}

/** Writes output with acks from all in-sync replicas; never creates topics. */
export interface OutputWriter {
  /** Checks a message against what is known of its topic, with no I/O (a partition it does not have throws). */
  check(message: OutgoingMessage): void
  /** Resolves only when every message is acknowledged by all in-sync replicas. */
  produce(messages: readonly OutgoingMessage[]): Promise<void>
}

/** The committed offsets of one consumer group. */
export interface OffsetStore {
  readonly groupId: string
  fetchCommitted(partitions: readonly TopicPartitionRef[]): Promise<Map<string, string>>
  fetchCommittedWithMetadata(partitions: readonly TopicPartitionRef[]): Promise<Map<string, CommittedOffset>>
  /** Commits next-offsets; with a group generation, the broker refuses it once the generation is over. */
  commit(offsets: readonly TopicPartitionOffset[], metadata?: string | null): Promise<void>
}

/**
 * Exactly-once output for one transactional id: init() fences earlier writers of the id; produce()
 * writes inside the open transaction; commit() adds the input offsets and commits output and
 * offsets together; abort() drops the open transaction. A writer fenced by a newer one throws
 * KASPER_PRODUCER_FENCED.
 */
export interface TransactionalOutput {
  readonly transactionalId: string
  init(): Promise<void>
  produce(messages: readonly OutgoingMessage[]): Promise<void>
  commit(groupId: string, offsets: readonly TopicPartitionOffset[], metadata: string | null): Promise<void>
  abort(): Promise<void>
}

/** One processor's connection to Kafka: what it reads, writes and commits through. */
export interface ClientConnection {
  /** Log start and end offsets per topic-partition (keys from tpKey). */
  logBounds(partitions: readonly TopicPartitionRef[]): Promise<Map<string, LogBounds>>
  /** With a member's generation (group assignment), commits carry it and wait out a rebalance (generation.ts). */
  offsets(groupId: string, generation?: GenerationCell): OffsetStore
  reader(start: readonly TopicPartitionOffset[], options: ReaderOptions): InputReader
  readonly writer: OutputWriter
  /** A transactional writer (exactly-once); `transactionTimeoutMs`: the broker aborts a transaction left open this long. */
  transactional(transactionalId: string, options: { transactionTimeoutMs: number }): TransactionalOutput
  /** Closes every connection; safe to call more than once. */
  close(): Promise<void>
}

export interface ClientOptions {
  /** How long connection and leadership errors are retried before an operation fails. */
  unavailableTimeoutMs: number
  logger: Logger
}

/** A Kafka client backend: opens connections for the processor. */
export interface KafkaClient {
  readonly name: string
  /**
   * Every input topic exists, all have the same partition count and every partition requested
   * exists (TopicLayoutError otherwise); resolves with the partition count.
   */
  checkInputLayout(topics: readonly string[], partitions: readonly number[]): Promise<number>
  /** Every topic exists (TopicLayoutError KASPER_TOPIC_NOT_FOUND naming them and their `role` otherwise). */
  checkTopicsExist(topics: readonly string[], role: string): Promise<void>
  connect(inputTopics: readonly string[]): Promise<ClientConnection>
}

/**
 * The default backend: kafkajs's protocol layer (the user's Kafka instance's brokers, TLS and SASL),
 * with three protocol-level clusters: metadata and offsets, fetches (a commit must not queue behind
 * a fetch the broker holds for maxWaitMs: Kafka answers a connection's requests in order), produce.
 */
export function kafkajsProtocolClient(kafka: Kafka, options: ClientOptions): KafkaClient {
  return {
    name: 'kafkajs-protocol',
    checkInputLayout: (topics, partitions) => checkTopicLayout(kafka, topics, partitions),
    checkTopicsExist: (topics, role) => checkTopicsExist(kafka, topics, role),
    async connect(inputTopics) {
      const cluster = createCluster(kafka)
      const fetchCluster = createCluster(kafka)
      const writer = OutputProducer.create(kafka, options)
      let closed: Promise<void> | undefined
      const close = () => {
        closed ??= Promise.allSettled([writer.disconnect(), cluster.disconnect(), fetchCluster.disconnect()]).then(
          () => undefined,
        )
        return closed
      }
      try {
        await Promise.all([cluster.connect(), fetchCluster.connect()])
        await Promise.all([
          cluster.addMultipleTargetTopics([...inputTopics]),
          fetchCluster.addMultipleTargetTopics([...inputTopics]),
        ])
        await writer.connect()
      } catch (error) {
        await close()
        throw error
      }
      return {
        logBounds: (partitions) => fetchLogBounds(cluster, partitions),
        offsets: (groupId, generation) => new GroupOffsets(cluster, groupId, options.unavailableTimeoutMs, generation),
        reader: (start, readerOptions) => new PartitionReader(fetchCluster, start, readerOptions),
        writer,
        transactional: (transactionalId, { transactionTimeoutMs }) =>
          new TransactionalWriter(cluster, writer, transactionalId, {
            transactionTimeoutMs,
            unavailableTimeoutMs: options.unavailableTimeoutMs,
          }),
        close,
      }
    },
  }
}

/** A Kafka instance for a command (no client logs: the command reports what matters). */
export function kafkaFor(config: KafkaConfig): Kafka {
  return new Kafka({ ...config, logLevel: logLevel.NOTHING })
}
