/**
 * Cooperative rebalancing inside a running TopicProcessor (group assignment). The daemon's member
 * joined a new generation: the processor's commits carry it from then on, partitions the member keeps
 * run on without a pause, partitions it gives up are released once their last batch is produced and
 * committed, and partitions it gains start from their committed offsets. Applied by the main loop
 * between batches, so no batch is ever cut in two.
 */
import { ErrorCodes, KasperError } from '../errors.js'
import { GenerationCell, type MemberGeneration } from '../kafka/generation.js'
import type { Logger } from '../logging/logger.js'
import type { MessageProcessors } from '../types.js'
import type { ResolvedTopicProcessorOptions } from './options.js'
import type { PartitionBuffers } from './partition-buffers.js'
import type { ProcessorMetrics } from './processor-metrics.js'
import { resolveProcessors, retryWhileUnavailable, type Session, startPartitions, stopPartitions } from './session.js'

/** What one reassignment changed. */
export interface ReassignResult {
  /** Given up: their last batch was committed and nothing more of them is read. */
  released: number[]
  /** Gained: read from their committed offsets. */
  added: number[]
}

interface Pending {
  partitions: readonly number[]
  resolve: (result: ReassignResult) => void
  reject: (error: unknown) => void
}

/**
 * A processor's side of group assignment: the member's current generation (commits carry it) and
 * the reassignments asked for and not yet applied, in order.
 */
export class Reassigner {
  readonly generation: GenerationCell
  #queue: Pending[] = []

  constructor(initial: MemberGeneration) {
    this.generation = new GenerationCell(initial)
  }

  /**
   * Takes the new generation at once (a commit waiting out the rebalance is sent with it) and queues
   * the partitions (checked by the caller: checkReassignment).
   */
  request(generation: MemberGeneration, partitions: readonly number[]): Promise<ReassignResult> {
    this.generation.set(generation)
    return new Promise((resolve, reject) => this.#queue.push({ partitions: [...partitions], resolve, reject }))
  }

  get pending(): number {
    return this.#queue.length
  }

  /** Applies what was asked, in order; one that fails rejects its caller and is thrown (the processor fails). */
  async apply(ctx: ReassignContext): Promise<void> {
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      try {
        next.resolve(await applyReassignment(ctx, next.partitions))
      } catch (error) {
        next.reject(error)
        throw error
      }
    }
  }

  /** The processor stops: no generation follows and nothing more is applied. */
  close(error: unknown): void {
    this.generation.close()
    const queue = this.#queue
    this.#queue = []
    for (const p of queue) p.reject(error)
  }
}

/** Checks a reassignment's partition list before it is queued (a typed error naming what is wrong). */
export function checkReassignment(partitions: readonly number[]): void {
  const bad = partitions.find((p) => !Number.isInteger(p) || p < 0)
  if (bad !== undefined || new Set(partitions).size !== partitions.length) {
    throw new KasperError(
      ErrorCodes.CONFIG_INVALID,
      bad !== undefined
        ? `reassign(): partition ${bad} is not a non-negative integer`
        : 'reassign(): a partition repeats',
    )
  }
}

export interface ReassignContext {
  session: Session
  buffers: PartitionBuffers
  metrics: ProcessorMetrics
  options: ResolvedTopicProcessorOptions
  logger: Logger
  source: MessageProcessors
  /** Settles once the last batch's commit is done (it throws the processor's failure, if any). */
  settleCommit: () => Promise<void>
  /** The processor is closing: nothing more is retried. */
  stopping: () => boolean
}

/** Moves the session to `partitions`: releases what is no longer listed, then starts what is new. */
export async function applyReassignment(ctx: ReassignContext, partitions: readonly number[]): Promise<ReassignResult> {
  const { session, buffers, options, logger } = ctx
  const current = new Set(session.partitions.map(({ partition }) => partition))
  const wanted = new Set(partitions)
  const released = [...current].filter((p) => !wanted.has(p)).sort((a, b) => a - b)
  const added = [...wanted].filter((p) => !current.has(p)).sort((a, b) => a - b)
  if (released.length > 0) {
    // the last batch of a released partition may still be committing: it completes first
    await ctx.settleCommit()
    let dropped = 0
    for (const p of released) dropped += buffers.remove(p)
    stopPartitions(session, released)
    for (const topic of options.inputTopics)
      for (const partition of released) ctx.metrics.lag.set({ topic, partition }, 0)
    logger.info(
      { released, droppedUncommitted: dropped },
      'partitions released: their last batch is committed, what was read past it is left to the next owner',
    )
  }
  if (added.length > 0) {
    const processors = await resolveProcessors(ctx.source, added)
    // buffers first: the fetcher reads a partition as soon as it is in the session
    for (const p of added) buffers.add(p)
    try {
      // as opening a session: a broker restarting or a leader not elected yet is waited out
      const started = await retryWhileUnavailable(
        async () => {
          await session.client.checkInputLayout(options.inputTopics, added)
          await startPartitions(session, added, processors, options, logger)
          return true
        },
        {
          unavailableTimeoutMs: options.unavailableTimeoutMs,
          logger,
          stopping: ctx.stopping,
          what: 'starting added partitions',
          fields: { added },
        },
      )
      if (!started) {
        // closed while Kafka was unavailable: nothing of them was read
        for (const p of added) buffers.remove(p)
        return { released, added: [] }
      }
    } catch (error) {
      for (const p of added) buffers.remove(p)
      throw error
    }
    logger.info({ added }, 'partitions added')
  }
  return { released, added }
}
