import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import { ErrorCodes, KasperError, OutputError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { OutgoingMessage } from '../types.js'
import { createCluster, forgetClosedBroker, groupByLeader, type KafkaCluster } from './cluster.js'
import { type OutputTopicSource, OutputTopics } from './output-topics.js'
import { checkPartition, type PickPartition, type ProduceRun, planRounds } from './produce-plan.js'
import { sendProduce } from './produce-request.js'
import { groupByTopic, tpKey } from './topic-partitions.js'
import { isTransient } from './transient-errors.js'

/** Produce errors after which the same records can simply be sent again (leaders moving, replicas catching up). */
const PRODUCE_RETRIABLE = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'KAFKA_STORAGE_ERROR',
  'NETWORK_EXCEPTION',
])

/** Largest produce request we build (the broker's socket.request.max.bytes defaults to 100 MiB). */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024
/** How long a broker may take to gather the in-sync replicas' acks (Kafka's default request timeout). */
const ACK_TIMEOUT_MS = 30_000

/** A transaction's identity for produce (src/kafka/transactions.ts owns it). */
export interface ProduceTransaction {
  transactionalId: string
  producerId: string
  producerEpoch: number
  /** Next sequence number per topic-partition key (tpKey): advanced as runs are assigned theirs. */
  sequences: Map<string, number>
  /** Registers topic-partitions with the transaction before anything is produced to them. */
  addPartitions(partitions: readonly { topic: string; partition: number }[]): Promise<void>
}

export interface OutputProducerOptions {
  /** How long produce may keep failing on connection or leadership errors before the batch fails. */
  unavailableTimeoutMs: number
  logger: Logger
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// kafkajs's murmur2, the hash of its default (Java-compatible) partitioner: a key lands where
// Kafka's Java producer would put it.
const require = createRequire(import.meta.url)
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number
const pickByKey: PickPartition = (_topic, partitions, message) =>
  (murmur2(message.key as Buffer | string) & 0x7fffffff) % partitions

/**
 * Produces output with acks from all in-sync replicas (acks = -1), with Produce requests sent
 * straight to each partition's leader through kafkajs's protocol layer. Never creates topics.
 *
 * Before anything is sent, every message gets its partition and is checked against its topic
 * (partition count, max.message.bytes); the output is cut into rounds the broker accepts (see
 * produce-plan.ts). A round is acknowledged only when every partition in it has an ack without
 * error; partitions whose leader failed are sent again (after a metadata refresh) until they are,
 * or until leadership and connection errors have lasted `unavailableTimeoutMs`. kafkajs's own
 * producer is not used: it can resolve without having written a partition (after a failed attempt
 * its retry skips the brokers that already answered, even for partitions that moved to them), and
 * it groups messages per partition in quadratic time.
 */
export class OutputProducer {
  readonly #cluster: KafkaCluster
  readonly #topics: OutputTopicSource
  readonly #options: OutputProducerOptions

  /** A producer on its own protocol-level cluster of the user's Kafka instance. */
  static create(kafka: Kafka, options: OutputProducerOptions): OutputProducer {
    return new OutputProducer(createCluster(kafka), new OutputTopics(kafka), options)
  }

  constructor(cluster: KafkaCluster, topics: OutputTopicSource, options: OutputProducerOptions) {
    this.#options = options
    this.#cluster = cluster
    this.#topics = topics
  }

  connect(): Promise<void> {
    return this.#cluster.connect()
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([this.#cluster.disconnect(), this.#topics.close()])
  }

  /** Checks a message against what is already known of its topic (no I/O): a partition it does not have throws. */
  check(message: OutgoingMessage): void {
    if (message.partition === undefined) return
    const info = this.#topics.known(message.topic)
    if (info) checkPartition(message.topic, message.partition, info)
  }

  /**
   * Resolves when every message is acknowledged by all in-sync replicas. With `txn`, the records are
   * transactional: each round's partitions are added to the transaction first, and each run gets its
   * sequence numbers once (a resend carries the same ones, so the broker writes it once).
   */
  async produce(messages: readonly OutgoingMessage[], txn?: ProduceTransaction): Promise<void> {
    if (messages.length === 0) return
    const rounds = await this.#plan(messages)
    for (const round of rounds) {
      if (txn) {
        await txn.addPartitions(round)
        for (const run of round) {
          const key = tpKey(run.topic, run.partition)
          run.baseSequence = txn.sequences.get(key) ?? 0
          txn.sequences.set(key, run.baseSequence + run.messages.length)
        }
      }
      await this.#sendRound(round, txn)
    }
  }

  async #plan(messages: readonly OutgoingMessage[]): Promise<ProduceRun[][]> {
    const topics = new Set(messages.map((m) => m.topic))
    await this.#topics.load(topics)
    await this.#cluster.addMultipleTargetTopics([...topics])
    const plan = () => planRounds(messages, (t) => this.#topics.get(t), pickByKey, MAX_REQUEST_BYTES)
    try {
      return plan()
    } catch (error) {
      // a partition beyond a cached layout: read the topic again (partitions may have been added), then decide
      if (!(error instanceof OutputError) || error.code !== ErrorCodes.OUTPUT_PARTITION_NOT_FOUND) throw error
      await this.#topics.load([error.topic ?? ''], new Set([error.topic ?? '']))
      return plan()
    }
  }

  async #sendRound(round: readonly ProduceRun[], txn?: ProduceTransaction): Promise<void> {
    const { unavailableTimeoutMs, logger } = this.#options
    let pending = round
    let failingSince: number | undefined
    let backoffMs = 100
    while (pending.length > 0) {
      const { byLeader, leaderless } = groupByLeader(this.#cluster, pending)
      const outcomes = await Promise.all(
        [...byLeader].map(async ([nodeId, runs]) => ({ runs, error: await this.#sendToLeader(nodeId, runs, txn) })),
      )
      const failed = outcomes.filter((o) => o.error !== undefined)
      pending = [...leaderless, ...failed.flatMap((o) => o.runs)]
      if (pending.length === 0) return
      const fatal = failed.find((o) => !isTransient(o.error, PRODUCE_RETRIABLE))
      if (fatal) throw fatal.error
      const now = Date.now()
      failingSince ??= now
      const cause = failed[0]?.error
      if (now - failingSince > unavailableTimeoutMs) {
        throw new KasperError(
          ErrorCodes.PRODUCE_FAILED,
          `no acknowledgement for ${describe(pending)} within unavailableTimeoutMs (${unavailableTimeoutMs} ms)` +
            (cause instanceof Error ? `: ${cause.message}` : leaderless.length > 0 ? ': no leader known' : ''),
          { cause, retriable: true },
        )
      }
      logger.warn({ err: cause, partitions: describe(pending) }, 'produce not acknowledged; sending again')
      for (const { error } of failed) forgetClosedBroker(this.#cluster, error)
      await sleep(backoffMs)
      backoffMs = Math.min(backoffMs * 2, 2000)
      await this.#cluster.refreshMetadata().catch(() => {})
    }
  }

  /** One Produce request to a leader; resolves with the error when any of its partitions was not acknowledged. */
  async #sendToLeader(nodeId: string, runs: readonly ProduceRun[], txn?: ProduceTransaction): Promise<unknown> {
    try {
      const broker = await this.#cluster.findBroker({ nodeId })
      const response = await sendProduce(
        broker,
        -1,
        ACK_TIMEOUT_MS,
        groupByTopic(runs).map(([topic, list]) => ({
          topic,
          partitions: list.map((run) => ({
            partition: run.partition,
            messages: run.messages,
            ...(txn
              ? {
                  producer: {
                    producerId: txn.producerId,
                    producerEpoch: txn.producerEpoch,
                    baseSequence: run.baseSequence ?? 0,
                  },
                }
              : {}),
          })),
        })),
        txn?.transactionalId,
      )
      const acked = new Set<string>()
      for (const { topicName, partitions } of response.topics) {
        for (const { partition, errorCode } of partitions)
          if (errorCode === 0) acked.add(`${topicName}\u0000${partition}`)
      }
      const missing = runs.filter((run) => !acked.has(`${run.topic}\u0000${run.partition}`))
      if (missing.length > 0) {
        return Object.assign(new Error(`no acknowledgement for ${describe(missing)} from broker ${nodeId}`), {
          type: 'NETWORK_EXCEPTION',
        })
      }
      return undefined
    } catch (error) {
      return error ?? new Error('produce failed')
    }
  }
}

function describe(runs: readonly ProduceRun[]): string {
  return runs.map((r) => `${r.topic}[${r.partition}]`).join(', ')
}
