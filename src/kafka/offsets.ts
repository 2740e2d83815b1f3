import pRetry from 'p-retry'
import { ErrorCodes, KasperError } from '../errors.js'
import type { KafkaCluster } from './cluster.js'
import type { GenerationCell, MemberGeneration } from './generation.js'
import { fetchStableOffsets, type OffsetFetchResult, supportsStableOffsetFetch } from './offset-fetch.js'
import { groupByTopic, tpKey } from './topic-partitions.js'
import { COORDINATOR_MOVED, isTransient } from './transient-errors.js'

/** What the coordinator answers a commit whose generation or member it does not (or no longer) accept. */
const MEMBERSHIP_REFUSALS = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
  'REBALANCE_IN_PROGRESS',
])

/** A coordinator between generations, or past the one a commit carried: the member's next generation may commit. */
const BETWEEN_GENERATIONS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION'])

/** Reading offsets also waits out a transaction's offsets that are not applied yet (offset-fetch.ts). */
const READ_RETRIABLE = new Set([...COORDINATOR_MOVED, 'UNSTABLE_OFFSET_COMMIT'])

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
    /**
     * Group assignment: commits carry this member's current generation, so the broker refuses them
     * once the member is out of the group; a commit that meets a rebalance waits for the member's next
     * generation (generation.ts).
     */
    private readonly member?: GenerationCell,
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
    const topics = groupByTopic(partitions)
    // require_stable where the broker has it (offset-fetch.ts): never the offsets from before a
    // transaction that has committed but whose offsets the coordinator has not applied yet
    const response = await this.#withCoordinator<OffsetFetchResult>(
      (broker) =>
        supportsStableOffsetFetch(broker)
          ? fetchStableOffsets(
              broker,
              this.groupId,
              topics.map(([topic, list]) => ({ topic, partitions: list.map(({ partition }) => partition) })),
            )
          : broker.offsetFetch({
              groupId: this.groupId,
              topics: topics.map(([topic, list]) => ({
                topic,
                partitions: list.map(({ partition }) => ({ partition })),
              })),
            }),
      READ_RETRIABLE,
    )
    const committed = new Map<string, CommittedOffset>()
    for (const { topic, partitions: list } of response.responses) {
      for (const { partition, offset, metadata } of list) {
        if (BigInt(offset) >= 0n) committed.set(tpKey(topic, partition), { offset, metadata: metadata ?? null })
      }
    }
    return committed
  }

  /**
   * Commits next-offsets (last processed + 1) with `metadata`. Retries coordinator moves and
   * connection errors; as a group member, a commit that meets a rebalance is sent again with the
   * member's next generation (refused as KASPER_ASSIGNMENT_LOST when none comes within the retry time).
   */
  async commit(offsets: readonly TopicPartitionOffset[], metadata: string | null = null): Promise<void> {
    if (offsets.length === 0) return
    const topics = groupByTopic(offsets).map(([topic, list]) => ({
      topic,
      partitions: list.map(({ partition, offset }) => ({ partition, offset, metadata })),
    }))
    for (;;) {
      const generation = this.member?.current
      // a member's worker holds partitions only once the member joined: never a commit as a non-member
      if (generation && generation.generationId < 0) {
        throw new KasperError(
          ErrorCodes.ASSIGNMENT_LOST,
          `group ${this.groupId}: no commit before this member joined`,
          {
            retriable: true,
          },
        )
      }
      try {
        await this.#withCoordinator((broker) =>
          broker.offsetCommit({
            groupId: this.groupId,
            groupGenerationId: generation?.generationId ?? -1,
            memberId: generation?.memberId ?? '',
            topics,
          }),
        )
        return
      } catch (error) {
        const type = (error as { type?: string } | null)?.type
        if (this.member && generation && type !== undefined && BETWEEN_GENERATIONS.has(type)) {
          if (await this.member.newer(generation.generationId, this.retryForMs)) continue
        }
        throw this.#refusal(error, generation) ?? error
      }
    }
  }

  /** A commit refused for membership reasons, as the typed error that says what to do. */
  #refusal(error: unknown, generation: MemberGeneration | undefined): KasperError | undefined {
    const type = (error as { type?: string } | null)?.type
    if (type === undefined || !MEMBERSHIP_REFUSALS.has(type)) return undefined
    if (generation) {
      return new KasperError(
        ErrorCodes.ASSIGNMENT_LOST,
        `group ${this.groupId} refused the commit of generation ${generation.generationId} (${type}): this member's assignment is over; nothing of the batch was committed`,
        { cause: error, retriable: true },
      )
    }
    return new KasperError(
      ErrorCodes.ASSIGNMENT_CONFLICT,
      `group ${this.groupId} has live members (${type}): a daemon runs this job with group assignment, or another consumer uses this group; static and group assignment cannot run at the same time, stop one of them. Nothing was committed`,
      { cause: error, retriable: false },
    )
  }

  #withCoordinator<T>(
    call: (broker: Awaited<ReturnType<KafkaCluster['findGroupCoordinator']>>) => Promise<T>,
    retriable: ReadonlySet<string> = COORDINATOR_MOVED,
  ) {
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
        shouldRetry: ({ error }) => isTransient(error, retriable),
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
