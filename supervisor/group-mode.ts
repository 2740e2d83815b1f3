/**
 * Group assignment in the supervisor: one GroupMember per daemon joins the job's consumer group;
 * each generation's share is spread over the worker threads; when the generation ends (a member
 * joined or left, this member was fenced, a slice's commit was refused) every slice finishes its
 * batch, produces and commits with the old generation (the coordinator still accepts it while it
 * prepares the rebalance), and only then does the member rejoin. Heartbeats run here, in the
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
  /** Starts slices over the generation's partitions (none: this member idles until the next one). */
  launch(generation: GroupGeneration): void
  /** Stops every slice gracefully (finish, produce, commit), within the shutdown deadline. */
  stopSlices(): Promise<void>
}

type End = MembershipEnd | { reason: 'stop' } | { reason: 'revoked'; error?: unknown }

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
      let previous: readonly number[] = []
      let endedAt: number | undefined
      while (!this.#stopped) {
        const generation = await this.member.join()
        if (this.#stopped) break
        const moved =
          generation.partitions.filter((p) => !previous.includes(p)).length +
          previous.filter((p) => !generation.partitions.includes(p)).length
        this.metrics.partitionsMoved.inc(moved)
        this.metrics.assignedPartitions.set(generation.partitions.length)
        this.metrics.generation.set(generation.generationId)
        this.logger.info(
          {
            generationId: generation.generationId,
            memberId: generation.memberId,
            groupInstanceId: generation.groupInstanceId,
            partitions: generation.partitions,
            moved,
          },
          generation.partitions.length > 0 ? 'assignment received' : 'assignment received: no partitions, idle',
        )
        this.#current = generation
        this.host.launch(generation)
        if (endedAt !== undefined) this.metrics.rebalanceSeconds.observe((Date.now() - endedAt) / 1000)
        previous = generation.partitions
        const watch = this.member.watch()
        const end = await Promise.race([
          watch.ended,
          new Promise<End>((resolveWake) => {
            this.#wake = resolveWake
          }),
        ])
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
        this.logger.info(
          {
            generationId: generation.generationId,
            groupInstanceId: generation.groupInstanceId,
            reason: end.reason,
            ...('error' in end ? { err: end.error } : {}),
          },
          'assignment ended: finishing the batches in flight, then rejoining',
        )
        await this.host.stopSlices()
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
