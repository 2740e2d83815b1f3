/**
 * TopicProcessor: Kasper's single-threaded batch loop.
 *
 *   fetcher (async task)                     main loop (one batch at a time)
 *   ─────────────────────                    ──────────────────────────────────────────────
 *   Fetch from partition leaders ──push──▶   PartitionBuffers ──due(p)──▶ process(messages, sender)
 *   (stops reading a partition                                             │
 *    whose buffer is full)                                                 ▼
 *                                                      produce queued output, acks = -1
 *                                                                          │
 *                                                                          ▼
 *                                              commit last offset + 1 per topic-partition
 *
 * Offsets live in group `kasper-topic-processor-<name>`, written as a non-member (static
 * assignment) or with the daemon's member generation (group assignment, reassignment.ts). A failed
 * stage rejects runLoop() with a BatchError and commits nothing of that batch.
 */
import { hostname } from 'node:os'
import { ErrorCodes, KasperError, ProcessorMissingError } from '../errors.js'
import type { OutputWriter, TopicPartitionOffset, TransactionalOutput } from '../kafka/client.js'
import type { MemberGeneration } from '../kafka/generation.js'
import type { Logger } from '../logging/logger.js'
import { BatchSender } from '../sender/sender.js'
import type { IncomingMessage, MessageProcessor, MessageProcessors, OutgoingMessage } from '../types.js'
import { batchFailure, commitStageError, processStageError, produceStageError } from './batch-errors.js'
import { assignmentLostTo, batchPosition, findOverlap } from './batch-steps.js'
import { DeadLetterPolicy } from './dead-letters.js'
import { runFetchLoop } from './fetch-loop.js'
import {
  consumerGroupId,
  type ResolvedTopicProcessorOptions,
  resolveTopicProcessorOptions,
  type TopicProcessorOptions,
} from './options.js'
import { Notifier, PartitionBuffers } from './partition-buffers.js'
import { ProcessorMetrics } from './processor-metrics.js'
import { ProgressTracker } from './progress.js'
import { checkReassignment, Reassigner, type ReassignResult } from './reassignment.js'
import { fencedAsRevocation, runProcessStage } from './run-batch.js'
import { isProcessor, openSession, type Session } from './session.js'

type State = 'idle' | 'running' | 'closing' | 'closed'

export class TopicProcessor {
  readonly options: ResolvedTopicProcessorOptions
  readonly groupId: string
  /** Written as commit metadata, so another instance committing on our partitions is noticed. */
  readonly instanceId = `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 10)}`
  readonly #processors: MessageProcessors
  readonly #logger: Logger
  readonly #metrics: ProcessorMetrics
  readonly #buffers: PartitionBuffers
  /** Set when onProcessError is 'dead-letter'. */
  readonly #deadLetters: DeadLetterPolicy | undefined
  readonly #dataReady = new Notifier()
  readonly #spaceFreed = new Notifier()
  /** Group assignment: the member's current generation, which commits carry, and reassignments to apply. */
  readonly #group: Reassigner | undefined
  #state: State = 'idle'
  #run: Promise<void> | undefined
  #closing: Promise<void> | undefined
  /** The first failure seen off the main loop (fetcher, a commit in flight): the loop throws it. */
  #fatal: unknown
  /** The last batch's commit, in flight while the next batch is processed (never rejects). */
  #commitInFlight: Promise<void> = Promise.resolve()
  #lastPartition: number | undefined
  #nextOverlapCheck = 0
  readonly #progress: ProgressTracker
  #markReady: () => void = noop
  #failReady: (error: unknown) => void = noop
  readonly #ready = new Promise<void>((resolve, reject) => {
    this.#markReady = resolve
    this.#failReady = reject
  })

  constructor(options: TopicProcessorOptions, processors: MessageProcessors) {
    this.options = resolveTopicProcessorOptions(options)
    this.groupId = consumerGroupId(this.options.topicProcessorName)
    if (!(processors instanceof Map) && typeof processors !== 'function') {
      throw new TypeError('processors must be a Map<number, MessageProcessor> or a function of the partition')
    }
    if (processors instanceof Map) {
      for (const p of this.options.inputPartitions) {
        if (!isProcessor(processors.get(p))) throw new ProcessorMissingError(p)
      }
    }
    this.#processors = processors
    this.#logger = this.options.logger.child({ processor: this.options.topicProcessorName })
    this.#metrics = new ProcessorMetrics(this.options.metrics)
    this.#progress = new ProgressTracker(this.#metrics, this.#logger)
    this.#buffers = new PartitionBuffers(this.options.inputPartitions)
    const { groupGeneration } = this.options
    this.#group = groupGeneration ? new Reassigner(groupGeneration) : undefined
    const { onProcessError, deadLetter, topicProcessorName } = this.options
    this.#deadLetters =
      onProcessError === 'dead-letter'
        ? new DeadLetterPolicy(deadLetter, topicProcessorName, this.#metrics, this.#logger, () => this.#stopping)
        : undefined
    this.#ready.catch(noop) // ready() rejects only for callers who await it
  }

  /**
   * Runs until close() (resolves) or the first error (rejects with a typed KasperError). Reads
   * nothing before the input topics are checked.
   */
  runLoop(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') {
      return Promise.reject(new KasperError(ErrorCodes.CLOSED, 'TopicProcessor is closed; create a new one'))
    }
    if (this.#run)
      return Promise.reject(new KasperError(ErrorCodes.ALREADY_RUNNING, 'TopicProcessor is already running'))
    this.#state = 'running'
    this.#run = this.#runLoop()
    return this.#run
  }

  /**
   * Stops gracefully: the batch in flight finishes (produce, then commit), then every connection
   * closes. Idempotent: every call returns the same promise. Never rejects; runLoop() carries errors.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing
    const wasIdle = this.#state === 'idle'
    // a commit waiting out a rebalance would wait for a generation that no longer comes
    this.#group?.close(new KasperError(ErrorCodes.CLOSED, 'TopicProcessor was closed'))
    this.#failReady(new KasperError(ErrorCodes.CLOSED, 'TopicProcessor was closed before it was ready'))
    this.#state = wasIdle || this.#state === 'closed' ? 'closed' : 'closing'
    this.#dataReady.notify()
    this.#spaceFreed.notify()
    this.#closing = wasIdle || !this.#run ? Promise.resolve() : this.#run.then(noop, noop)
    return this.#closing
  }

  /**
   * Group assignment (cooperative rebalancing): the member joined `generation` with `partitions`.
   * Commits carry it at once; partitions no longer listed are released once their batch in flight
   * is committed, new ones start from their committed offsets, the rest run on (docs/topic-processor.md).
   */
  reassign(generation: MemberGeneration, partitions: readonly number[]): Promise<ReassignResult> {
    if (!this.#group) {
      return Promise.reject(
        new KasperError(
          ErrorCodes.CONFIG_INVALID,
          'reassign() is for group assignment: options.groupGeneration is not set',
        ),
      )
    }
    try {
      checkReassignment(partitions)
    } catch (error) {
      return Promise.reject(error)
    }
    if (this.#state !== 'running') {
      return Promise.reject(new KasperError(ErrorCodes.CLOSED, `reassign() on a TopicProcessor that is ${this.#state}`))
    }
    const applied = this.#group.request(generation, partitions)
    this.#dataReady.notify()
    return applied
  }

  /** Liveness: when the loop last made progress (a batch committed, or idle), and how many messages wait. */
  progress(): { lastProgressAt: number; waiting: number } {
    return { lastProgressAt: this.#progress.lastProgressAt, waiting: this.#buffers.total }
  }

  /**
   * Resolves once the input is checked and reading has started. Rejects with runLoop()'s error when
   * opening fails, or with KASPER_CLOSED when close() comes first.
   */
  ready(): Promise<void> {
    return this.#ready
  }

  get #stopping(): boolean {
    return this.#state !== 'running'
  }

  async #runLoop(): Promise<void> {
    let session: Session | undefined
    let fetcher: Promise<void> | undefined
    let lagTimer: NodeJS.Timeout | undefined
    let progressTimer: NodeJS.Timeout | undefined
    try {
      session = await openSession(
        this.options,
        this.groupId,
        this.#processors,
        this.#logger,
        () => this.#stopping,
        this.#group?.generation,
      )
      if (session && !this.#stopping) {
        this.#progress.updateLag(session)
        const live = session
        fetcher = runFetchLoop({
          options: this.options,
          logger: this.#logger,
          session: live,
          buffers: this.#buffers,
          metrics: this.#metrics,
          spaceFreed: this.#spaceFreed,
          dataReady: this.#dataReady,
          stopping: () => this.#stopping,
          fail: (error) => {
            this.#fatal ??= error
          },
        })
        lagTimer = setInterval(() => this.#progress.updateLag(live), this.options.metricsUpdateIntervalMs)
        lagTimer.unref()
        if (this.options.progressLogIntervalMs > 0) {
          progressTimer = setInterval(() => this.#progress.logLine(live), this.options.progressLogIntervalMs)
          progressTimer.unref()
        }
        this.#markReady()
        await this.#mainLoop(live)
        await this.#commitInFlight
        if (this.#fatal !== undefined) throw this.#fatal
      }
    } catch (error) {
      this.#failReady(error)
      this.#logger.error({ err: error }, 'TopicProcessor stopped on error')
      throw error
    } finally {
      this.#state = 'closing'
      this.#group?.close(this.#fatal ?? new KasperError(ErrorCodes.CLOSED, 'TopicProcessor stopped'))
      this.#dataReady.notify()
      this.#spaceFreed.notify()
      if (lagTimer) clearInterval(lagTimer)
      if (progressTimer) clearInterval(progressTimer)
      await fetcher
      await this.#commitInFlight
      if (session) {
        this.#progress.updateLag(session)
        await session.connection.close()
      }
      this.#state = 'closed'
      this.#logger.info({}, 'TopicProcessor closed')
    }
  }

  async #mainLoop(session: Session): Promise<void> {
    const { batchSize, batchWaitMs, overlapCheckIntervalMs } = this.options
    this.#nextOverlapCheck = Date.now() + overlapCheckIntervalMs
    while (true) {
      if (this.#fatal !== undefined) throw this.#fatal
      if (this.#stopping) return
      if (this.#group?.pending) {
        await this.#group.apply({
          session,
          buffers: this.#buffers,
          metrics: this.#metrics,
          options: this.options,
          logger: this.#logger,
          source: this.#processors,
          settleCommit: async () => {
            await this.#commitInFlight
            if (this.#fatal !== undefined) throw this.#fatal
          },
          stopping: () => this.#stopping,
        })
        this.#spaceFreed.notify()
      }
      if (Date.now() >= this.#nextOverlapCheck) {
        await this.#commitInFlight
        await this.#checkOverlap(session)
        this.#nextOverlapCheck = Date.now() + overlapCheckIntervalMs
      }
      const now = Date.now()
      const partition = this.#buffers.due(batchSize, batchWaitMs, now, this.#lastPartition)
      if (partition !== undefined) {
        this.#lastPartition = partition
        const messages = this.#buffers.take(partition, batchSize, now)
        this.#spaceFreed.notify()
        await this.#processBatch(session, partition, messages)
        continue
      }
      const wait = this.#buffers.nextDeadline(batchWaitMs, now) ?? batchWaitMs
      if (this.#buffers.total === 0) this.#progress.lastProgressAt = now // idle: nothing waits, nothing is stuck
      await this.#dataReady.wait(Math.min(wait, Math.max(0, this.#nextOverlapCheck - now)))
    }
  }

  async #processBatch(session: Session, partition: number, messages: IncomingMessage[]): Promise<void> {
    const position = batchPosition(partition, messages)
    const next: TopicPartitionOffset[] = Object.entries(position.offsets).map(([topic, o]) => ({
      topic,
      partition,
      offset: (BigInt(o.last) + 1n).toString(),
    }))
    const labels = { partition }
    const fail = batchFailure(this.#metrics, position)
    const group = this.options.groupGeneration !== undefined
    // exactly-once: output goes through this partition's transaction
    const transaction = session.transactions?.get(partition)
    const writeOutput = (out: readonly OutgoingMessage[]) => this.#produce(transaction ?? session.producer, out)
    const sender = new BatchSender(writeOutput, {
      check: (message) => session.producer.check(message),
      onLateSend: (error) => {
        // the batch this send belonged to may be committed already: stop before anything else is
        this.#fatal ??= error
        this.#dataReady.notify()
      },
    })
    const processor = session.processors.get(partition) as MessageProcessor

    const t0 = performance.now()
    const processing = runProcessStage({
      processor,
      partition,
      messages,
      sender,
      timeoutMs: this.options.processTimeoutMs,
      deadLetters: this.#deadLetters,
      produce: writeOutput,
      check: (message) => session.producer.check(message),
      deferAttemptFlush: transaction !== undefined,
    })
    await processing.catch(async (error: unknown) => {
      sender.seal()
      await transaction?.abort()
      throw processStageError(error, fail, group, this.options.processTimeoutMs)
    })
    sender.seal()
    const t1 = performance.now()
    await sender.flush().catch(async (error: unknown) => {
      await transaction?.abort()
      throw produceStageError(error, fail, group)
    })
    const t2 = performance.now()
    this.#metrics.batchSize.observe(labels, messages.length)
    this.#metrics.processSeconds.observe(labels, (t1 - t0) / 1000)
    this.#metrics.produceSeconds.observe(labels, (t2 - t1) / 1000)

    // The commit runs while the next batch is processed: it always follows its own batch's acked
    // output, commits are never reordered (each waits for the one before), and a failed commit
    // stops the loop before any later commit.
    await this.#commitInFlight
    if (this.#fatal !== undefined) throw this.#fatal
    const committing = transaction
      ? transaction.commit(this.groupId, next, this.#commitMetadata).catch(async (error: unknown) => {
          await transaction.abort()
          throw fencedAsRevocation(error, group)
        })
      : session.offsets.commit(next, this.#commitMetadata)
    this.#commitInFlight = committing.then(
      () => {
        const t3 = performance.now()
        this.#progress.committed(session, next, messages.length, sender.produced)
        this.#metrics.commitSeconds.observe(labels, (t3 - t2) / 1000)
        this.#logger.debug(
          {
            partition,
            messages: messages.length,
            produced: sender.produced,
            offsets: position.offsets,
            processMs: round(t1 - t0),
            produceMs: round(t2 - t1),
            commitMs: round(t3 - t2),
          },
          'batch committed',
        )
      },
      (error: unknown) => {
        this.#fatal ??= commitStageError(error, fail)
        this.#dataReady.notify()
      },
    )
    // exactly-once: the partition's next transaction starts after this one ended
    if (transaction) {
      await this.#commitInFlight
      if (this.#fatal !== undefined) throw this.#fatal
    }
  }

  get #commitMetadata(): string {
    return `kasper-ts:${this.instanceId}`
  }

  /** Runs between batches (never beside our own commit), every overlapCheckIntervalMs. */
  async #checkOverlap(session: Session): Promise<void> {
    if (session.partitions.length === 0) return // every partition was released (group assignment)
    const found = await session.offsets.fetchCommittedWithMetadata(session.partitions).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'overlap check could not read the group offsets')
      return undefined
    })
    const overlap = found && findOverlap(session.committed, session.committedByUs, found, this.#commitMetadata)
    if (overlap) throw this.options.groupGeneration ? assignmentLostTo(overlap) : overlap
  }

  async #produce(writer: OutputWriter | TransactionalOutput, messages: readonly OutgoingMessage[]): Promise<void> {
    await writer.produce(messages)
    const perTopic = new Map<string, number>()
    for (const m of messages) perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1)
    for (const [topic, count] of perTopic) this.#metrics.outgoing.inc({ topic }, count)
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10
const noop = () => {}
