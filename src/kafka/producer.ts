import { createRequire } from 'node:module'
import type { Kafka, Message, Producer, RecordMetadata } from 'kafkajs'
import { ErrorCodes, KasperError, OutputError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { OutgoingMessage } from '../types.js'
import { OutputTopics } from './output-topics.js'
import { checkPartition, type PickPartition, type ProduceRun, planRounds } from './produce-plan.js'
import { isTransient } from './transient-errors.js'

/** Produce errors after which the same records can simply be sent again (leaders moving, replicas catching up). */
const PRODUCE_RETRIABLE = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'KAFKA_STORAGE_ERROR',
  'NETWORK_EXCEPTION',
])

/** Largest produce request we build (the broker's socket.request.max.bytes defaults to 100 MiB). */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024

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
/** Every message reaches kafkajs with its partition already chosen. */
const givenPartition =
  () =>
  ({ message }: { message: Message }) =>
    message.partition as number

/**
 * Produces output with acks from all in-sync replicas (acks = -1). Never auto-creates topics.
 *
 * Before anything is sent, every message gets its partition and is checked against its topic
 * (partition count, max.message.bytes); the output is cut into rounds the broker accepts (see
 * produce-plan.ts). After each round, every topic-partition sent must appear in the acks: kafkajs
 * can return success without having written a partition (a retry after a leader moved to a broker
 * that had already answered skips it, and a partition missing from metadata is dropped), so
 * partitions without an ack are sent again, never assumed written.
 */
export class OutputProducer {
  readonly #producer: Producer
  readonly #topics: OutputTopics
  readonly #options: OutputProducerOptions

  constructor(kafka: Kafka, options: OutputProducerOptions) {
    this.#options = options
    this.#producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: givenPartition })
    this.#topics = new OutputTopics(kafka)
  }

  connect(): Promise<void> {
    return this.#producer.connect()
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([this.#producer.disconnect(), this.#topics.close()])
  }

  /** Checks a message against what is already known of its topic (no I/O): a partition it does not have throws. */
  check(message: OutgoingMessage): void {
    if (message.partition === undefined) return
    const info = this.#topics.known(message.topic)
    if (info) checkPartition(message.topic, message.partition, info)
  }

  /** Resolves when every message is acknowledged by all in-sync replicas. */
  async produce(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const rounds = await this.#plan(messages)
    for (const round of rounds) await this.#sendRound(round)
  }

  async #plan(messages: readonly OutgoingMessage[]): Promise<ProduceRun[][]> {
    const topics = new Set(messages.map((m) => m.topic))
    await this.#topics.load(topics)
    const plan = () => planRounds(messages, (t) => this.#topics.get(t), pickByKey, MAX_REQUEST_BYTES)
    try {
      return plan()
    } catch (error) {
      // a partition beyond a cached layout: read the topic again (partitions may have been added), then decide
      if (!KasperError.is(error, ErrorCodes.OUTPUT_PARTITION_NOT_FOUND) || !(error instanceof OutputError)) throw error
      await this.#topics.load([error.topic ?? ''], new Set([error.topic ?? '']))
      return plan()
    }
  }

  async #sendRound(round: readonly ProduceRun[]): Promise<void> {
    const { unavailableTimeoutMs, logger } = this.#options
    let pending = round
    let failingSince: number | undefined
    let backoffMs = 100
    while (pending.length > 0) {
      let acked: RecordMetadata[]
      try {
        acked = await this.#producer.sendBatch({
          acks: -1,
          topicMessages: pending.map((run) => ({ topic: run.topic, messages: run.messages as Message[] })),
        })
      } catch (error) {
        if (!isTransient(error, PRODUCE_RETRIABLE)) throw error
        const now = Date.now()
        failingSince ??= now
        if (now - failingSince > unavailableTimeoutMs) throw error
        logger.warn({ err: error, partitions: describe(pending) }, 'produce failed; retrying')
        await sleep(backoffMs)
        backoffMs = Math.min(backoffMs * 2, 2000)
        continue
      }
      const ok = new Set(acked.filter((r) => r.errorCode === 0).map((r) => `${r.topicName}\u0000${r.partition}`))
      const missing = pending.filter((run) => !ok.has(`${run.topic}\u0000${run.partition}`))
      if (missing.length > 0) {
        logger.warn(
          { partitions: describe(missing) },
          'produce returned without acks for some partitions; sending them again',
        )
        failingSince ??= Date.now()
        if (Date.now() - failingSince > unavailableTimeoutMs) {
          throw new KasperError(
            ErrorCodes.PRODUCE_FAILED,
            `no acknowledgement for ${describe(missing)} within unavailableTimeoutMs (${unavailableTimeoutMs} ms)`,
            { retriable: true },
          )
        }
      }
      pending = missing
    }
  }
}

function describe(runs: readonly ProduceRun[]): string {
  return runs.map((r) => `${r.topic}[${r.partition}]`).join(', ')
}
