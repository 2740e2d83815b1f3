import pRetry from 'p-retry'
import type { KafkaCluster } from './cluster.js'
import { groupByTopic, tpKey } from './topic-partitions.js'
import { COORDINATOR_MOVED, isTransient } from './transient-errors.js'

export interface TopicPartitionOffset {
  topic: string
  partition: number
  offset: string
}

export interface CommittedOffset {
  offset: string
  /** The metadata stored with the commit: kasper-ts writes the committing instance's id. */
  metadata: string | null
}

/**
 * Offsets of one consumer group, read and written without joining the group (generation -1,
 * empty member id), the way Kasper stored them. Kafka's own tools see them:
 * `kafka-consumer-groups --describe --group <groupId>`.
 */
export class GroupOffsets {
  /** @param retryForMs how long coordinator and connection errors are retried (a broker restart) before failing */
  constructor(
    private readonly cluster: KafkaCluster,
    readonly groupId: string,
    private readonly retryForMs = 60_000,
  ) {}

  /** Committed next-offsets; a topic-partition with no commit is absent from the map. */
  async fetchCommitted(partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, string>> {
    const detailed = await this.fetchCommittedWithMetadata(partitions)
    return new Map([...detailed].map(([key, c]) => [key, c.offset]))
  }

  /** Committed next-offsets with their commit metadata. */
  async fetchCommittedWithMetadata(
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<Map<string, CommittedOffset>> {
    const response = await this.#withCoordinator((broker) =>
      broker.offsetFetch({
        groupId: this.groupId,
        topics: groupByTopic(partitions).map(([topic, list]) => ({
          topic,
          partitions: list.map(({ partition }) => ({ partition })),
        })),
      }),
    )
    const committed = new Map<string, CommittedOffset>()
    for (const { topic, partitions: list } of response.responses) {
      for (const { partition, offset, metadata } of list) {
        if (BigInt(offset) >= 0n) committed.set(tpKey(topic, partition), { offset, metadata: metadata ?? null })
      }
    }
    return committed
  }

  /** Commits next-offsets (last processed + 1) with `metadata`. Retries coordinator moves and connection errors. */
  async commit(offsets: readonly TopicPartitionOffset[], metadata: string | null = null): Promise<void> {
    if (offsets.length === 0) return
    await this.#withCoordinator((broker) =>
      broker.offsetCommit({
        groupId: this.groupId,
        groupGenerationId: -1,
        memberId: '',
        topics: groupByTopic(offsets).map(([topic, list]) => ({
          topic,
          partitions: list.map(({ partition, offset }) => ({ partition, offset, metadata })),
        })),
      }),
    )
  }

  #withCoordinator<T>(call: (broker: Awaited<ReturnType<KafkaCluster['findGroupCoordinator']>>) => Promise<T>) {
    return pRetry(
      async () => {
        const broker = await this.cluster.findGroupCoordinator({ groupId: this.groupId })
        return call(broker)
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: this.retryForMs,
        minTimeout: 100,
        maxTimeout: 2000,
        shouldRetry: ({ error }) => isTransient(error, COORDINATOR_MOVED),
      },
    )
  }
}

export interface LogBounds {
  /** First offset still in the log. */
  start: string
  /** The high-water mark: offset of the next message to be written. */
  end: string
}

/** Log start and end offsets of each topic-partition. */
export async function fetchLogBounds(
  cluster: KafkaCluster,
  partitions: readonly { topic: string; partition: number }[],
): Promise<Map<string, LogBounds>> {
  const request = (fromBeginning: boolean) =>
    cluster.fetchTopicsOffset(
      groupByTopic(partitions).map(([topic, list]) => ({
        topic,
        partitions: list.map(({ partition }) => ({ partition })),
        fromBeginning,
      })),
    )
  const [starts, ends] = await Promise.all([request(true), request(false)])
  const bounds = new Map<string, LogBounds>()
  for (const { topic, partitions: list } of starts) {
    for (const { partition, offset } of list) bounds.set(tpKey(topic, partition), { start: offset, end: offset })
  }
  for (const { topic, partitions: list } of ends) {
    for (const { partition, offset } of list) {
      const key = tpKey(topic, partition)
      bounds.set(key, { start: bounds.get(key)?.start ?? '0', end: offset })
    }
  }
  return bounds
}
