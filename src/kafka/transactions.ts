/**
 * Exactly-once output: one Kafka transaction per batch, holding the batch's output and its input
 * offsets (KIP-98 / KIP-447's pattern, as Kafka Streams' exactly-once does), sent through kafkajs's
 * protocol layer: InitProducerId, AddPartitionsToTxn, Produce (transactional record batches with
 * idempotent sequences, encoded by record-batch.ts), AddOffsetsToTxn, TxnOffsetCommit, EndTxn.
 *
 * One transactional id per input partition (`kasper-<name>-<partition>`), stable across restarts and
 * re-slicing: whoever opens a partition's writer (InitProducerId) bumps its epoch, which aborts the
 * transaction a crashed or paused predecessor left open and fences it for good.
 */
import pRetry from 'p-retry'
import { ErrorCodes, KasperError } from '../errors.js'
import type { OutgoingMessage } from '../types.js'
import type { KafkaBroker, KafkaCluster } from './cluster.js'
import type { TopicPartitionOffset } from './offsets.js'
import type { OutputProducer, ProduceTransaction } from './producer.js'
import { groupByTopic, tpKey } from './topic-partitions.js'
import { COORDINATOR_MOVED, isTransient } from './transient-errors.js'

const TRANSACTION_COORDINATOR = 1
/** Errors after which the same transaction request can simply be sent again. */
const TXN_RETRIABLE = new Set([...COORDINATOR_MOVED, 'CONCURRENT_TRANSACTIONS'])
/** The coordinator's answers to a producer whose epoch is over: another writer took the transactional id. */
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])

export const transactionalIdFor = (topicProcessorName: string, partition: number) =>
  `kasper-${topicProcessorName}-${partition}`

export interface TransactionalBroker extends KafkaBroker {
  initProducerId(request: {
    transactionalId: string
    transactionTimeout: number
  }): Promise<{ producerId: string; producerEpoch: number }>
  addPartitionsToTxn(request: {
    transactionalId: string
    producerId: string
    producerEpoch: number
    topics: { topic: string; partitions: number[] }[]
  }): Promise<unknown>
  addOffsetsToTxn(request: {
    transactionalId: string
    producerId: string
    producerEpoch: number
    groupId: string
  }): Promise<unknown>
  txnOffsetCommit(request: {
    transactionalId: string
    groupId: string
    producerId: string
    producerEpoch: number
    topics: { topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]
  }): Promise<{ topics: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>
  endTxn(request: {
    transactionalId: string
    producerId: string
    producerEpoch: number
    transactionResult: boolean
  }): Promise<unknown>
}

export interface TransactionalWriterOptions {
  /** The broker aborts a transaction left open this long (a writer that died mid-batch). */
  transactionTimeoutMs: number
  unavailableTimeoutMs: number
}

/** The error of a writer whose transactional id was taken over: nothing of its open transaction is committed. */
export function fencedError(transactionalId: string, cause: unknown): KasperError {
  return new KasperError(
    ErrorCodes.PRODUCER_FENCED,
    `transactional id ${transactionalId} was taken over by another writer (a newer instance of this processor on the same partition); this one's open transaction is aborted and nothing of its batch was committed`,
    { cause, retriable: false },
  )
}

const typeOf = (error: unknown) => {
  const e = error as { type?: string; code?: number } | null
  return e?.code === 90 ? 'PRODUCER_FENCED' : e?.type
}

/** One transactional id's writer: a transaction at a time, begun by the first produce. */
export class TransactionalWriter {
  #producerId = '-1'
  #producerEpoch = -1
  #open = false
  readonly #inTxn = new Set<string>()
  readonly #sequences = new Map<string, number>()

  constructor(
    private readonly cluster: KafkaCluster,
    private readonly producer: OutputProducer,
    readonly transactionalId: string,
    private readonly options: TransactionalWriterOptions,
  ) {}

  /** InitProducerId: fences every earlier writer of this id and aborts what it left open. */
  async init(): Promise<void> {
    const { producerId, producerEpoch } = await this.#coordinated((broker) =>
      broker.initProducerId({
        transactionalId: this.transactionalId,
        transactionTimeout: this.options.transactionTimeoutMs,
      }),
    )
    this.#producerId = producerId
    this.#producerEpoch = producerEpoch
    this.#sequences.clear()
    this.#inTxn.clear()
    this.#open = false
  }

  /** Produces `messages` inside the open transaction (opening it), acked by all in-sync replicas. */
  async produce(messages: readonly OutgoingMessage[]): Promise<void> {
    this.#open = true
    const txn: ProduceTransaction = {
      transactionalId: this.transactionalId,
      producerId: this.#producerId,
      producerEpoch: this.#producerEpoch,
      sequences: this.#sequences,
      addPartitions: async (partitions) => {
        const fresh = partitions.filter(({ topic, partition }) => !this.#inTxn.has(tpKey(topic, partition)))
        if (fresh.length === 0) return
        await this.#coordinated((broker) =>
          broker.addPartitionsToTxn({
            ...this.#ids(),
            topics: groupByTopic(fresh).map(([topic, list]) => ({ topic, partitions: list.map((p) => p.partition) })),
          }),
        )
        for (const { topic, partition } of fresh) this.#inTxn.add(tpKey(topic, partition))
      },
    }
    try {
      await this.producer.produce(messages, txn)
    } catch (error) {
      if (FENCED.has(typeOf(error) ?? '')) throw fencedError(this.transactionalId, error)
      throw error
    }
  }

  /** Adds the input offsets to the transaction and commits it: output and offsets become visible together. */
  async commit(groupId: string, offsets: readonly TopicPartitionOffset[], metadata: string | null): Promise<void> {
    this.#open = true
    await this.#coordinated((broker) => broker.addOffsetsToTxn({ ...this.#ids(), groupId }))
    const response = await this.#withGroupCoordinator(groupId, (broker) =>
      broker.txnOffsetCommit({
        ...this.#ids(),
        groupId,
        topics: groupByTopic(offsets).map(([topic, list]) => ({
          topic,
          partitions: list.map(({ partition, offset }) => ({ partition, offset, metadata })),
        })),
      }),
    )
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) {
          throw new KasperError(
            ErrorCodes.COMMIT_FAILED,
            `TxnOffsetCommit of ${t.topic}[${p.partition}] refused (error code ${p.errorCode})`,
            { retriable: true },
          )
        }
      }
    }
    await this.#end(true)
  }

  /** Aborts the open transaction, if any (best effort: a writer that cannot reach its coordinator is aborted by the transaction timeout, or by the next init). */
  async abort(): Promise<void> {
    if (!this.#open) return
    await this.#end(false).catch(() => {})
    this.#open = false
  }

  async #end(commit: boolean): Promise<void> {
    await this.#coordinated((broker) => broker.endTxn({ ...this.#ids(), transactionResult: commit }))
    this.#open = false
    this.#inTxn.clear()
  }

  #ids() {
    return { transactionalId: this.transactionalId, producerId: this.#producerId, producerEpoch: this.#producerEpoch }
  }

  #coordinated<T>(call: (broker: TransactionalBroker) => Promise<T>): Promise<T> {
    return this.#retrying(async () => {
      const broker = (await this.cluster.findGroupCoordinator({
        groupId: this.transactionalId,
        coordinatorType: TRANSACTION_COORDINATOR,
      })) as TransactionalBroker
      return call(broker)
    })
  }

  #withGroupCoordinator<T>(groupId: string, call: (broker: TransactionalBroker) => Promise<T>): Promise<T> {
    return this.#retrying(async () =>
      call((await this.cluster.findGroupCoordinator({ groupId })) as TransactionalBroker),
    )
  }

  #retrying<T>(run: () => Promise<T>): Promise<T> {
    return pRetry(run, {
      retries: Number.POSITIVE_INFINITY,
      maxRetryTime: this.options.unavailableTimeoutMs,
      minTimeout: 50,
      maxTimeout: 2000,
      shouldRetry: ({ error }) => isTransient(error, TXN_RETRIABLE),
    }).catch((error: unknown) => {
      if (FENCED.has(typeOf(error) ?? '')) throw fencedError(this.transactionalId, error)
      throw error
    })
  }
}
