import { createRequire } from 'node:module'
import { FetchError } from '../errors.js'
import type { IncomingMessage } from '../types.js'
import { type FetchPartitionResponse, type KafkaCluster, type RawMessage, READ_COMMITTED } from './cluster.js'
import type { TopicPartitionOffset } from './offsets.js'
import { groupByTopic, tpKey } from './topic-partitions.js'
import { isTransient, STALE_METADATA } from './transient-errors.js'

// kafkajs's own Batch: drops aborted transactional messages and control records, and knows where
// the next fetch starts after compacted or filtered record batches.
const require = createRequire(import.meta.url)
interface KafkaBatch {
  messages: RawMessage[]
  isEmptyIncludingFiltered(): boolean
  lastOffset(): string
}
const Batch = require('kafkajs/src/consumer/batch') as new (
  topic: string,
  fetchedOffset: string,
  partitionData: FetchPartitionResponse,
) => KafkaBatch

export interface ReaderOptions {
  /** Longest time the broker holds a fetch that has no data. */
  maxWaitMs: number
  maxBytes: number
  maxBytesPerPartition: number
  /** How long fetches may keep failing on connection or leadership errors before giving up. */
  unavailableTimeoutMs: number
}

export interface FetchedRecords {
  topic: string
  partition: number
  messages: IncomingMessage[]
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Reads a fixed set of topic-partitions from their leaders, with no group membership. One fetch
 * request per leader broker per round; the caller chooses which partitions take part (back-pressure).
 */
export class PartitionReader {
  readonly #positions = new Map<string, { topic: string; partition: number; offset: string }>()
  #failingSince: number | undefined
  #backoffMs = 100

  constructor(
    private readonly cluster: KafkaCluster,
    start: readonly TopicPartitionOffset[],
    private readonly options: ReaderOptions,
  ) {
    for (const { topic, partition, offset } of start)
      this.#positions.set(tpKey(topic, partition), { topic, partition, offset })
  }

  /** Next offset to fetch for a topic-partition. */
  position(topic: string, partition: number): string {
    const position = this.#positions.get(tpKey(topic, partition))
    if (!position) throw new RangeError(`${topic}[${partition}] is not read by this reader`)
    return position.offset
  }

  seek(topic: string, partition: number, offset: string): void {
    this.#positions.set(tpKey(topic, partition), { topic, partition, offset })
  }

  /**
   * One fetch round over `wanted` (all partitions when omitted). Transient errors (connection,
   * leadership) are absorbed with a back-off and an empty result until `unavailableTimeoutMs` has
   * passed without a successful fetch; then FetchError. Out-of-range offsets throw FetchOffsetOutOfRange.
   */
  async fetch(wanted?: readonly { topic: string; partition: number }[]): Promise<FetchedRecords[]> {
    const positions = wanted
      ? wanted
          .map(({ topic, partition }) => this.#positions.get(tpKey(topic, partition)))
          .filter((p) => p !== undefined)
      : [...this.#positions.values()]
    if (positions.length === 0) {
      await sleep(Math.min(this.options.maxWaitMs, 50))
      return []
    }
    try {
      const byLeader = this.#groupByLeader(positions)
      const rounds = await Promise.all(
        [...byLeader.entries()].map(([nodeId, list]) => this.#fetchFromLeader(nodeId, list)),
      )
      this.#failingSince = undefined
      this.#backoffMs = 100
      return rounds.flat()
    } catch (error) {
      return this.#recover(error)
    }
  }

  #groupByLeader(positions: readonly { topic: string; partition: number; offset: string }[]) {
    const byLeader = new Map<string, { topic: string; partition: number; offset: string }[]>()
    for (const position of positions) {
      const leaders = this.cluster.findLeaderForPartitions(position.topic, [position.partition])
      const nodeId = Object.keys(leaders)[0]
      if (nodeId === undefined) {
        throw Object.assign(new Error(`no leader known for ${position.topic}[${position.partition}]`), {
          type: 'LEADER_NOT_AVAILABLE',
        })
      }
      const list = byLeader.get(nodeId) ?? []
      list.push(position)
      byLeader.set(nodeId, list)
    }
    return byLeader
  }

  async #fetchFromLeader(nodeId: string, positions: readonly { topic: string; partition: number; offset: string }[]) {
    const maxBytes = this.options.maxBytesPerPartition
    const topics = groupByTopic(positions).map(([topic, list]) => ({
      topic,
      partitions: list.map(({ partition, offset }) => ({ partition, fetchOffset: offset, maxBytes })),
    }))
    const broker = await this.cluster.findBroker({ nodeId })
    let response: Awaited<ReturnType<typeof broker.fetch>>
    try {
      response = await broker.fetch({
        replicaId: -1,
        isolationLevel: READ_COMMITTED,
        maxWaitTime: this.options.maxWaitMs,
        minBytes: 1,
        maxBytes: this.options.maxBytes,
        topics,
      })
    } catch (error) {
      const e = error as { name?: string; topic?: string; partition?: number }
      if (e.name === 'KafkaJSOffsetOutOfRange' && e.topic !== undefined && e.partition !== undefined) {
        throw new FetchOffsetOutOfRange(e.topic, e.partition, this.position(e.topic, e.partition))
      }
      throw error
    }
    const out: FetchedRecords[] = []
    for (const { topicName, partitions } of response.responses) {
      for (const data of partitions) {
        const key = tpKey(topicName, data.partition)
        const position = this.#positions.get(key)
        if (!position) continue
        const batch = new Batch(topicName, position.offset, data)
        if (!batch.isEmptyIncludingFiltered()) {
          position.offset = (BigInt(batch.lastOffset()) + 1n).toString()
        }
        const messages: IncomingMessage[] = batch.messages.map((m) => ({
          topic: topicName,
          partition: data.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
        }))
        out.push({ topic: topicName, partition: data.partition, messages, highWatermark: data.highWatermark })
      }
    }
    return out
  }

  async #recover(error: unknown): Promise<FetchedRecords[]> {
    if (error instanceof FetchOffsetOutOfRange) throw error
    const e = error as { type?: string; name?: string; host?: string; port?: number; message?: string }
    const transient = isTransient(error, STALE_METADATA)
    if (!transient) throw new FetchError(`fetch failed: ${e.message ?? String(error)}`, error)
    const now = Date.now()
    this.#failingSince ??= now
    if (now - this.#failingSince > this.options.unavailableTimeoutMs) {
      throw new FetchError(
        `Kafka has been unavailable for ${now - this.#failingSince} ms (unavailableTimeoutMs ${this.options.unavailableTimeoutMs}): ${e.message}`,
        error,
      )
    }
    if (e.name === 'KafkaJSConnectionClosedError' && e.host && e.port)
      this.cluster.removeBroker({ host: e.host, port: e.port })
    await sleep(this.#backoffMs)
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5000)
    await this.cluster.refreshMetadata().catch(() => {})
    return []
  }
}
