/**
 * Opening a TopicProcessor's session: check the input layout, create the processors, connect to
 * Kafka through the client seam (src/kafka/client.ts), read the committed offsets and log bounds,
 * and resolve where each topic-partition starts.
 */
import { ErrorCodes, KasperError, ProcessorMissingError } from '../errors.js'
import {
  type ClientConnection,
  type InputReader,
  type KafkaClient,
  kafkajsProtocolClient,
  mayRecover,
  type OffsetStore,
  type OutputWriter,
  type TransactionalOutput,
  transactionalIdFor,
} from '../kafka/client.js'
import type { GenerationCell } from '../kafka/generation.js'
import { type TopicPartition, topicPartitions, tpKey } from '../kafka/topic-partitions.js'
import type { Logger } from '../logging/logger.js'
import type { MessageProcessor, MessageProcessors } from '../types.js'
import type { ResolvedTopicProcessorOptions } from './options.js'
import { resolveStartOffsets } from './start-offsets.js'

export interface Session {
  client: KafkaClient
  connection: ClientConnection
  producer: OutputWriter
  offsets: OffsetStore
  reader: InputReader
  /** Exactly-once: the transactional writer of each input partition (initialised: earlier writers fenced). */
  transactions: Map<number, TransactionalOutput> | undefined
  processors: Map<number, MessageProcessor>
  /** Every input topic-partition this processor reads (replaced, never mutated, when a rebalance changes it). */
  partitions: TopicPartition[]
  /** Next offset to process, per topic-partition: what is (or will be) committed. */
  committed: Map<string, string>
  /** Topic-partitions this instance has committed at least once. */
  committedByUs: Set<string>
  highWatermarks: Map<string, string>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Opens the session, retrying failures to reach Kafka that may go away (a broker restarting, a
 * leader not elected yet) for up to unavailableTimeoutMs, as a running processor does: a processor
 * started while one broker of the cluster is down starts once metadata points elsewhere, instead of
 * failing. The processors are resolved once. Fails with KASPER_CONNECT_FAILED (or the typed error
 * that opening raised) when the error is permanent or time is up. Resolves with undefined when
 * `stopping()` turns true while it retries: a close() during start-up is a stop, not a failure
 * (nothing was read, nothing is left to commit).
 */
export async function openSession(
  options: ResolvedTopicProcessorOptions,
  groupId: string,
  source: MessageProcessors,
  logger: Logger,
  stopping: () => boolean = () => false,
  generation?: GenerationCell,
): Promise<Session | undefined> {
  let processors: Promise<Map<number, MessageProcessor>> | undefined
  const resolve = () => {
    processors ??= resolveProcessors(source, options.inputPartitions)
    return processors
  }
  return retryWhileUnavailable(() => openOnce(options, groupId, resolve, logger, generation), {
    unavailableTimeoutMs: options.unavailableTimeoutMs,
    logger,
    stopping,
    what: 'connecting to Kafka',
  })
}

/**
 * Runs `call`, again after failures to reach Kafka that may go away (a broker restarting, a leader
 * not elected yet) with a growing back-off, for up to unavailableTimeoutMs; then, or for a failure
 * no retry cures, throws it typed (KASPER_CONNECT_FAILED, or the typed error `call` threw).
 * Resolves with undefined when `stopping()` turns true while it retries.
 */
export async function retryWhileUnavailable<T>(
  call: () => Promise<T>,
  how: { unavailableTimeoutMs: number; logger: Logger; stopping: () => boolean; what: string; fields?: object },
): Promise<T | undefined> {
  const started = Date.now()
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const typed = KasperError.isKasperError(error) ? error : connectFailed(error)
      const waitMs = Math.min(5000, 200 * 2 ** (attempt - 1))
      const late = Date.now() + waitMs - started > how.unavailableTimeoutMs
      if (KasperError.isKasperError(error) || !typed.retriable || late) throw typed
      if (how.stopping()) return undefined
      how.logger.warn({ err: typed, attempt, retryInMs: waitMs, ...how.fields }, `${how.what} failed: retrying`)
      await sleep(waitMs)
      if (how.stopping()) return undefined
    }
  }
}

async function openOnce(
  options: ResolvedTopicProcessorOptions,
  groupId: string,
  resolveOnce: () => Promise<Map<number, MessageProcessor>>,
  logger: Logger,
  generation: GenerationCell | undefined,
): Promise<Session> {
  const { kafka, inputTopics, inputPartitions } = options
  const client: KafkaClient = kafkajsProtocolClient(kafka, {
    unavailableTimeoutMs: options.unavailableTimeoutMs,
    logger,
  })
  await client.checkInputLayout(inputTopics, inputPartitions)
  if (options.onProcessError === 'dead-letter') await client.checkTopicsExist([options.deadLetter.topic], 'dead-letter')
  const processors = await resolveOnce()
  const connection = await client.connect(inputTopics)
  try {
    const session: Session = {
      client,
      connection,
      producer: connection.writer,
      offsets: connection.offsets(groupId, generation),
      transactions: options.guarantee === 'exactly-once' ? new Map() : undefined,
      reader: connection.reader([], {
        maxWaitMs: options.fetchMaxWaitMs,
        maxBytes: options.fetchMaxBytes,
        maxBytesPerPartition: options.fetchMaxBytesPerPartition,
        unavailableTimeoutMs: options.unavailableTimeoutMs,
        isolationLevel: options.isolationLevel,
      }),
      processors: new Map(),
      partitions: [],
      committed: new Map(),
      committedByUs: new Set(),
      highWatermarks: new Map(),
    }
    await startPartitions(session, inputPartitions, processors, options, logger)
    return session
  } catch (error) {
    await connection.close()
    throw error
  }
}

/**
 * Starts reading `partitions` in an open session: at open, and for partitions a rebalance adds. Under
 * exactly-once, InitProducerId first: it completes (or aborts) whatever transaction an earlier writer
 * of each partition left, so the committed offsets read next include its last commit. The partitions
 * join the session only once everything succeeded: a failure leaves the session as it was.
 */
export async function startPartitions(
  session: Session,
  partitions: readonly number[],
  processors: ReadonlyMap<number, MessageProcessor>,
  options: ResolvedTopicProcessorOptions,
  logger: Logger,
): Promise<void> {
  if (partitions.length === 0) return // a group member's worker waiting for its first partitions
  const { connection } = session
  const transactions = session.transactions
    ? partitions.map(
        (p) =>
          [
            p,
            connection.transactional(transactionalIdFor(options.topicProcessorName, p), {
              transactionTimeoutMs: options.transactionTimeoutMs,
            }),
          ] as const,
      )
    : []
  await Promise.all(transactions.map(([, t]) => t.init()))
  const all = topicPartitions(options.inputTopics, partitions)
  const [committed, bounds] = await Promise.all([session.offsets.fetchCommitted(all), connection.logBounds(all)])
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
  for (const [p, t] of transactions) session.transactions?.set(p, t)
  for (const p of partitions) session.processors.set(p, processors.get(p) as MessageProcessor)
  for (const s of start) {
    session.reader.seek(s.topic, s.partition, s.offset)
    session.committed.set(tpKey(s.topic, s.partition), s.offset)
  }
  for (const [key, b] of bounds) session.highWatermarks.set(key, b.end)
  session.partitions = [...session.partitions, ...all]
}

/** Stops reading `partitions` (revoked: their last batch is committed): they leave the session. */
export function stopPartitions(session: Session, partitions: readonly number[]): void {
  const gone = new Set(partitions)
  for (const p of partitions) {
    session.transactions?.delete(p)
    session.processors.delete(p)
  }
  for (const { topic, partition } of session.partitions) {
    if (!gone.has(partition)) continue
    const key = tpKey(topic, partition)
    session.reader.release(topic, partition)
    session.committed.delete(key)
    session.committedByUs.delete(key)
    session.highWatermarks.delete(key)
  }
  session.partitions = session.partitions.filter(({ partition }) => !gone.has(partition))
}

export async function resolveProcessors(
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
