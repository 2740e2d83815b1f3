import { FetchError } from '../errors.js'
import { forgetClosedBroker, groupByLeader, type KafkaCluster, READ_COMMITTED, READ_UNCOMMITTED } from './cluster.js'
import { sendFetch } from './fetch-request.js'
import type { FetchedPartition } from './fetch-response.js'
import type { TopicPartitionOffset } from './offsets.js'
import type { MessageRun } from './record-run.js'
import { tpKey } from './topic-partitions.js'
import { isTransient, STALE_METADATA } from './transient-errors.js'

export interface ReaderOptions {
  /** Longest time the broker holds a fetch that has no data. */
  maxWaitMs: number
  maxBytes: number
  maxBytesPerPartition: number
  /** How long fetches of a partition may keep failing on connection or leadership errors before giving up. */
  unavailableTimeoutMs: number
  /** 'read_committed' (default): records of open and aborted transactions are never returned. */
  isolationLevel?: 'read_committed' | 'read_uncommitted'
}

export interface FetchedRecords {
  topic: string
  partition: number
  /** In offset order; message objects are made by `slice()` (record-run.ts). */
  messages: MessageRun
  highWatermark: string
}

/** A topic-partition whose fetch offset is outside the log (retention removed it, or the topic was recreated). */
export class FetchOffsetOutOfRange extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
  ) {
    super(`fetch offset ${offset} of ${topic}[${partition}] is out of range`)
  }
}

interface Position {
  topic: string
  partition: number
  /** Next offset to fetch: one past the last record handed to the caller (or skipped as filtered). */
  offset: string
  /** When this partition's fetches started failing (cleared by a successful fetch). */
  failingSince?: number
  /** Not fetched again before this time (back-off after a failure at its leader). */
  retryAt?: number
  backoffMs: number
}

/** The outcome of one leader's fetch: its partitions' data, or why it failed. */
type LeaderOutcome =
  | { ok: true; fetched: { position: Position; fetchOffset: string; data: FetchedPartition }[] }
  | { ok: false; positions: Position[]; error: unknown }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 5000

/**
 * Reads a fixed set of topic-partitions from their leaders, with no group membership. One fetch
 * request per leader broker per round; the caller chooses which partitions take part (back-pressure).
 *
 * Positions advance only with what fetch() returns: a round waits for every leader it asked, so no
 * response arrives after its round, and a failure at one leader never discards what the others
 * returned. A failing leader's partitions keep their positions, back off, and are fetched again from
 * there once metadata is refreshed (a new leader, a broker back). An error that no retry cures is
 * thrown by the next fetch() call, after the records already fetched have been handed over.
 */
export class PartitionReader {
  readonly #positions = new Map<string, Position>()
  /** A failure to throw at the next fetch(): the current round's records were returned first. */
  #deferred: unknown

  constructor(
    private readonly cluster: KafkaCluster,
    start: readonly TopicPartitionOffset[],
    private readonly options: ReaderOptions,
  ) {
    for (const { topic, partition, offset } of start) this.seek(topic, partition, offset)
  }

  /** Next offset to fetch for a topic-partition. */
  position(topic: string, partition: number): string {
    const position = this.#positions.get(tpKey(topic, partition))
    if (!position) throw new RangeError(`${topic}[${partition}] is not read by this reader`)
    return position.offset
  }

  seek(topic: string, partition: number, offset: string): void {
    this.#positions.set(tpKey(topic, partition), { topic, partition, offset, backoffMs: MIN_BACKOFF_MS })
  }

  /** Stops reading a topic-partition: a response in flight for it is dropped, as after a seek(). */
  release(topic: string, partition: number): void {
    this.#positions.delete(tpKey(topic, partition))
  }

  /**
   * One fetch round over `wanted` (all partitions when omitted). Partitions whose leader failed
   * recently sit out until their back-off ends; when all of them do, the round waits for the first.
   * Transient errors (connection, leadership) are retried until a partition has failed for
   * `unavailableTimeoutMs`; then FetchError. Out-of-range offsets throw FetchOffsetOutOfRange.
   */
  async fetch(wanted?: readonly { topic: string; partition: number }[]): Promise<FetchedRecords[]> {
    if (this.#deferred !== undefined) {
      const error = this.#deferred
      this.#deferred = undefined
      throw error
    }
    const all = wanted
      ? wanted
          .map(({ topic, partition }) => this.#positions.get(tpKey(topic, partition)))
          .filter((p) => p !== undefined)
      : [...this.#positions.values()]
    const now = Date.now()
    const due = all.filter((p) => p.retryAt === undefined || p.retryAt <= now)
    if (due.length === 0) {
      const next = Math.min(...all.map((p) => p.retryAt ?? now + 50))
      await sleep(Math.max(1, Math.min(next - now, this.options.maxWaitMs, 1000)))
      return []
    }
    const { byLeader, leaderless } = groupByLeader(this.cluster, due)
    const outcomes = await Promise.all(
      [...byLeader.entries()].map(([nodeId, list]) => this.#fetchFromLeader(nodeId, list)),
    )
    if (leaderless.length > 0) {
      outcomes.push({
        ok: false,
        positions: leaderless,
        error: Object.assign(new Error(`no leader known for ${describe(leaderless)}`), {
          type: 'LEADER_NOT_AVAILABLE',
        }),
      })
    }
    const out: FetchedRecords[] = []
    const failures: { positions: Position[]; error: unknown }[] = []
    for (const outcome of outcomes) {
      if (outcome.ok) {
        for (const { position, fetchOffset, data } of outcome.fetched) {
          const records = this.#handOver(position, fetchOffset, data)
          if (records) out.push(records)
        }
      } else {
        failures.push(outcome)
      }
    }
    if (failures.length > 0) await this.#failed(failures)
    return out
  }

  /** Advances a position past what a response holds and returns its records (undefined when the position moved meanwhile). */
  #handOver(position: Position, fetchOffset: string, data: FetchedPartition): FetchedRecords | undefined {
    // a seek() during the round wins over the response
    if (this.#positions.get(tpKey(position.topic, position.partition)) !== position) return undefined
    if (position.offset !== fetchOffset) return undefined
    position.failingSince = undefined
    position.retryAt = undefined
    position.backoffMs = MIN_BACKOFF_MS
    if (data.nextOffset !== undefined) {
      // past the last complete record batch, including aborted and control records filtered out
      position.offset = data.nextOffset
    } else if (data.lastOffset !== undefined) {
      position.offset = (BigInt(data.lastOffset) + 1n).toString()
    } else if (data.onlyBelowFetchOffset) {
      // Only records below the fetch offset came back: the rest of their record batch was removed by
      // compaction, so the fetch offset itself is gone. Step past it (kafkajs's consumer does the same).
      position.offset = (BigInt(fetchOffset) + 1n).toString()
    }
    const { topic, partition } = position
    return { topic, partition, messages: data.messages, highWatermark: data.highWatermark }
  }

  /** Fetches from one leader; never rejects, and never moves a position (fetch() does, with the outcome). */
  async #fetchFromLeader(nodeId: string, positions: readonly Position[]): Promise<LeaderOutcome> {
    const maxBytes = this.options.maxBytesPerPartition
    // each position with the offset this request asks for
    const byKey = new Map(positions.map((p) => [tpKey(p.topic, p.partition), { position: p, fetchOffset: p.offset }]))
    try {
      const broker = await this.cluster.findBroker({ nodeId })
      const response = await sendFetch(broker, {
        isolationLevel: this.options.isolationLevel === 'read_uncommitted' ? READ_UNCOMMITTED : READ_COMMITTED,
        maxWaitTime: this.options.maxWaitMs,
        minBytes: 1,
        maxBytes: this.options.maxBytes,
        partitions: [...byKey.values()].map(({ position: { topic, partition }, fetchOffset }) => ({
          topic,
          partition,
          fetchOffset,
          maxBytes,
        })),
      })
      const fetched: { position: Position; fetchOffset: string; data: FetchedPartition }[] = []
      for (const { topicName, partitions } of response.responses) {
        for (const data of partitions) {
          const asked = byKey.get(tpKey(topicName, data.partition))
          if (asked) fetched.push({ ...asked, data })
        }
      }
      return { ok: true, fetched }
    } catch (error) {
      const e = error as { name?: string; topic?: string; partition?: number }
      if (e.name === 'KafkaJSOffsetOutOfRange' && e.topic !== undefined && e.partition !== undefined) {
        const offset = byKey.get(tpKey(e.topic, e.partition))?.fetchOffset ?? '-1'
        return { ok: false, positions: [...positions], error: new FetchOffsetOutOfRange(e.topic, e.partition, offset) }
      }
      return { ok: false, positions: [...positions], error }
    }
  }

  /** Failed leaders: back off their partitions, refresh metadata, and defer what no retry cures. */
  async #failed(failures: readonly { positions: Position[]; error: unknown }[]): Promise<void> {
    const now = Date.now()
    let refresh = false
    for (const { positions, error } of failures) {
      // a partition released meanwhile is no longer this reader's concern
      if (positions.every((p) => this.#positions.get(tpKey(p.topic, p.partition)) !== p)) continue
      if (error instanceof FetchOffsetOutOfRange) {
        this.#deferred ??= error
        continue
      }
      const e = error as { message?: string }
      if (!isTransient(error, STALE_METADATA)) {
        this.#deferred ??= new FetchError(`fetch failed: ${e.message ?? String(error)}`, error)
        continue
      }
      for (const position of positions) {
        position.failingSince ??= now
        if (now - position.failingSince > this.options.unavailableTimeoutMs) {
          this.#deferred ??= new FetchError(
            `Kafka has been unavailable for ${position.topic}[${position.partition}] for ${now - position.failingSince} ms ` +
              `(unavailableTimeoutMs ${this.options.unavailableTimeoutMs}): ${e.message}`,
            error,
          )
        }
        position.retryAt = now + position.backoffMs
        position.backoffMs = Math.min(position.backoffMs * 2, MAX_BACKOFF_MS)
      }
      forgetClosedBroker(this.cluster, error)
      refresh = true
    }
    if (refresh) await this.cluster.refreshMetadata().catch(() => {})
  }
}

function describe(positions: readonly Position[]): string {
  return positions.map((p) => `${p.topic}[${p.partition}]`).join(', ')
}
