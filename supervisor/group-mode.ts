/**
 * Group assignment in the supervisor: one GroupMember per daemon joins the job's consumer group;
 * each generation's share is spread over the worker threads. Rebalances are cooperative: when a
 * member joins or leaves, this member rejoins naming the partitions it runs, and its slices run on
 * meanwhile; the new generation's share then keeps those that stay (they take the new generation
 * for their commits), releases those that go (each slice finishes its batch, produces and commits
 * first) and starts those that come. A member that released partitions rejoins at once, so the
 * group hands them to their new member. A member that lost its membership (fenced, unreachable, a
 * commit refused) stops every slice and rejoins with nothing. Heartbeats run here, in the
 * supervisor's thread, so a long process() in a worker never costs the membership.
 */
import { ErrorCodes, KasperError } from '../src/errors.js'
import { type GroupGeneration, GroupMember, type MembershipEnd } from '../src/kafka/group-member.js'
import type { Logger } from '../src/logging/logger.js'
import { consumerGroupId } from '../src/processor/options.js'
import type { Job } from '../workers/job.js'
import type { ResolvedSupervisorOptions } from './options.js'
import type { SupervisorMetrics } from './supervisor-metrics.js'

export interface GroupHost {
  /**
   * Moves the slices to the generation's partitions (none: this member idles until the next one):
   * resolves once released partitions are committed and let go, and new ones are being read.
   */
  assign(generation: GroupGeneration): Promise<void>
  /** Stops every slice gracefully (finish, produce, commit), within the shutdown deadline. */
  stopSlices(): Promise<void>
}

type End = MembershipEnd | { reason: 'stop' } | { reason: 'revoked'; error?: unknown } | { reason: 'released' }

export class GroupAssignment {
  #stopped = false
  #wake: ((end: End) => void) | undefined
  #current: GroupGeneration | undefined

  constructor(
    private readonly member: GroupMember,
    private readonly host: GroupHost,
    private readonly metrics: SupervisorMetrics,
    private readonly logger: Logger,
  ) {}

  /** The loop for a job: one member of `kasper-topic-processor-<name>` on its own connections. */
  static forJob(
    job: Job,
    options: ResolvedSupervisorOptions,
    metrics: SupervisorMetrics,
    logger: Logger,
    host: GroupHost,
  ): GroupAssignment {
    const { groupInstanceId, sessionTimeoutMs, heartbeatIntervalMs, shutdownTimeoutMs } = options
    const member = GroupMember.create(job.kafka, {
      groupId: consumerGroupId(job.topicProcessorName),
      topics: job.inputTopics,
      partitions: job.inputPartitions,
      ...(groupInstanceId ? { groupInstanceId } : {}),
      sessionTimeoutMs,
      // every member must finish its batch and commit before the coordinator gives up on it
      rebalanceTimeoutMs: shutdownTimeoutMs + 10_000,
      heartbeatIntervalMs,
      unavailableTimeoutMs: job.unavailableTimeoutMs,
      logger,
    })
    return new GroupAssignment(member, host, metrics, logger)
  }

  /** This daemon's current generation and share (undefined while joining). */
  get current(): GroupGeneration | undefined {
    return this.#current
  }

  /** Joins, runs each generation, rejoins; resolves once stop() was called and the group was left. */
  async run(): Promise<void> {
    await this.member.connect()
    try {
      /** What this daemon's slices run now: its subscription's claim when it rejoins. */
      let owned: readonly number[] = []
      let endedAt: number | undefined
      while (!this.#stopped) {
        const generation = await this.member.join(owned)
        if (this.#stopped) break
        const released = owned.filter((p) => !generation.partitions.includes(p))
        const added = generation.partitions.filter((p) => !owned.includes(p))
        this.metrics.partitionsMoved.inc(released.length + added.length)
        this.metrics.assignedPartitions.set(generation.partitions.length)
        this.metrics.generation.set(generation.generationId)
        this.logger.info(
          {
            generationId: generation.generationId,
            memberId: generation.memberId,
            groupInstanceId: generation.groupInstanceId,
            partitions: generation.partitions,
            released,
            added,
          },
          generation.partitions.length > 0 ? 'assignment received' : 'assignment received: no partitions, idle',
        )
        // heartbeats from now on: releasing a partition takes up to a batch
        const watch = this.member.watch()
        const ended = Promise.race([
          watch.ended,
          new Promise<End>((resolveWake) => {
            this.#wake = resolveWake
          }),
        ])
        let endedEarly: End | undefined
        void ended.then((end) => {
          endedEarly = end
        })
        this.#current = generation
        await this.host.assign(generation)
        owned = generation.partitions
        if (endedAt !== undefined) this.metrics.rebalanceSeconds.observe((Date.now() - endedAt) / 1000)
        // the generation may have ended while the slices moved; else released partitions go to their
        // new member in the next generation: rejoin at once
        const end: End = endedEarly ?? (released.length > 0 ? { reason: 'released' } : await ended)
        watch.stop()
        this.#wake = undefined
        this.#current = undefined
        if (end.reason === 'stop') break
        // a duplicate group.instance.id: stop this daemon's slices, then fail (the supervisor halts)
        if (KasperError.is('error' in end ? end.error : undefined, ErrorCodes.GROUP_JOIN_FAILED)) {
          await this.host.stopSlices()
          throw (end as { error: KasperError }).error
        }
        endedAt = Date.now()
        this.metrics.rebalances.inc({ reason: end.reason })
        const lost = end.reason === 'fenced' || end.reason === 'unreachable' || end.reason === 'revoked'
        this.logger.info(
          {
            generationId: generation.generationId,
            groupInstanceId: generation.groupInstanceId,
            reason: end.reason,
            ...('error' in end ? { err: end.error } : {}),
          },
          lost
            ? 'assignment ended: membership lost, stopping every slice (their batches commit only if the group still accepts them), then rejoining'
            : end.reason === 'released'
              ? 'assignment ended: partitions released, rejoining so the group hands them over'
              : 'assignment ended: the group rebalances, rejoining while the slices run on',
        )
        if (lost) {
          await this.host.stopSlices()
          owned = []
        }
      }
    } finally {
      await this.member.leave()
      await this.member.disconnect().catch(() => {})
    }
  }

  /** Ends the loop: the supervisor stops the slices itself; run() then leaves the group. */
  stop(): void {
    this.#stopped = true
    this.#wake?.({ reason: 'stop' })
  }

  /** A slice's commit was refused for its generation: end this assignment and rejoin. */
  revoked(error?: unknown): void {
    this.#wake?.({ reason: 'revoked', error })
  }
}
