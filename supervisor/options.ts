import { z } from 'zod'
import type { Logger } from '../src/logging/logger.js'
import { parseOptions } from '../src/options.js'

const positiveInt = (field: string) => z.number().int(`${field} must be an integer`).positive(`${field} must be > 0`)

export const supervisorSchema = z
  .object({
    /** Path of the job module (compiled JavaScript). */
    jobPath: z.string().min(1, 'jobPath must name a job module'),
    /** Worker threads; each runs one slice of the partitions. */
    workers: positiveInt('workers').default(1),
    /** Overrides the job's inputPartitions (this daemon's share when several hosts run the job). */
    partitions: z.array(z.number().int().nonnegative()).min(1, 'partitions must not be empty').optional(),
    /**
     * This daemon is instance `index` of `count` running the job (e.g. the pods of a StatefulSet):
     * it takes the index-th of `count` disjoint, contiguous, balanced shares of the job's partitions
     * (or of `partitions`), so `count` daemons given 0..count-1 cover every partition exactly once.
     */
    instance: z
      .object({
        index: z.number().int('instance.index must be an integer').nonnegative('instance.index must be >= 0'),
        count: positiveInt('instance.count'),
      })
      .strict()
      .refine((i) => i.index < i.count, {
        message: 'instance.index must be below instance.count (instances are numbered from 0)',
      })
      .optional(),
    /**
     * 'static': this daemon reads the job's partitions (or `partitions`, or its `instance` share);
     * 'group': it joins the job's consumer group and reads what Kafka's coordinator assigns it.
     * Default: the job's `assignment` (itself 'static' by default).
     */
    assignment: z.enum(['static', 'group']).optional(),
    /** Group assignment: static membership (group.instance.id), stable across restarts, e.g. the pod's name. */
    groupInstanceId: z.string().min(1, 'groupInstanceId must not be empty').max(249).optional(),
    /** Group assignment: the coordinator ends a member that sends no heartbeat for this long. */
    sessionTimeoutMs: z
      .number()
      .int()
      .min(6000, 'sessionTimeoutMs must be >= 6000 (the broker minimum)')
      .default(30_000),
    /**
     * Group assignment: how often a member heartbeats. A member hears of a rebalance at its next
     * heartbeat, and a member that joins waits that long for the others, so it is short.
     */
    heartbeatIntervalMs: z.number().int().min(100, 'heartbeatIntervalMs must be >= 100').default(1000),
    onFailure: z.enum(['restart', 'halt']).default('restart'),
    /** Restarts allowed within restartWindowMs before the job halts. */
    maxRestarts: z.number().int().nonnegative('maxRestarts must be >= 0').default(5),
    restartWindowMs: positiveInt('restartWindowMs').default(300_000),
    restartBackoffMs: positiveInt('restartBackoffMs').default(1000),
    restartBackoffMaxMs: positiveInt('restartBackoffMaxMs').default(30_000),
    /** Graceful stop deadline: past it, threads are terminated. */
    shutdownTimeoutMs: positiveInt('shutdownTimeoutMs').default(30_000),
    /** Metrics and health HTTP server; port 0 picks a free port, null disables it. */
    metricsHost: z.string().min(1).default('127.0.0.1'),
    metricsPort: z.number().int().min(0).max(65535).nullable().default(9464),
    metricsIntervalMs: positiveInt('metricsIntervalMs').default(1000),
    /**
     * A slice with input waiting that completes no batch for this long (or stops reporting) is
     * stalled: unhealthy on /healthz, counted, and its thread ended and handled by onFailure.
     */
    stallTimeoutMs: positiveInt('stallTimeoutMs').default(600_000),
    /** Per-worker heap limit (MB): a worker that exceeds it is stopped and handled by onFailure. */
    workerMaxOldGenerationMb: positiveInt('workerMaxOldGenerationMb').optional(),
    /**
     * Per-worker young generation (MB; V8's semi-spaces are a third each). Node 24's V8 sizes it
     * for throughput at the cost of memory; 48 measured the same throughput with less RSS.
     */
    workerMaxYoungGenerationMb: positiveInt('workerMaxYoungGenerationMb').default(48),
    logger: z
      .custom<Logger>(
        (v) => typeof v === 'object' && v !== null && typeof (v as Logger).child === 'function',
        'logger must be a Logger',
      )
      .optional(),
  })
  .strict()
  .refine((o) => o.heartbeatIntervalMs * 3 <= o.sessionTimeoutMs, {
    message: 'heartbeatIntervalMs must be at most a third of sessionTimeoutMs (a member may miss two heartbeats)',
    path: ['heartbeatIntervalMs'],
  })

export type SupervisorOptions = z.input<typeof supervisorSchema>
export type ResolvedSupervisorOptions = z.output<typeof supervisorSchema>

export const parseSupervisorOptions = (input: unknown): ResolvedSupervisorOptions =>
  parseOptions('Supervisor', supervisorSchema, input)
