/**
 * Supervisor: runs a job's partitions as disjoint slices, one worker thread per slice.
 *
 *   start()  load + validate the job ─▶ slicePartitions ─▶ one Slice (worker) per slice ─▶ HTTP
 *   group    the partitions come from the job's consumer group, per generation (group-mode.ts)
 *   failure  'restart': back off, restart that slice only (others keep running), up to
 *            maxRestarts within restartWindowMs, then halt; 'halt': stop everything, exit 1
 *   stop()   every slice finishes its batch, produces, commits; past shutdownTimeoutMs the
 *            threads are terminated (exit code 3)
 */
import { EventEmitter } from 'node:events'
import { resolve } from 'node:path'
import { ConfigError, ErrorCodes, type SerializedError, serializeError } from '../src/errors.js'
import { jsonLogger } from '../src/logging/json-logger.js'
import type { Logger } from '../src/logging/logger.js'
import { consumerGroupId } from '../src/processor/options.js'
import { loadJob } from '../workers/job.js'
import { GroupAssignment } from './group-mode.js'
import { moveSlices, NOT_JOINED, newSliceState } from './group-slices.js'
import { type HealthState, MetricsServer } from './metrics-server.js'
import { parseSupervisorOptions, type ResolvedSupervisorOptions, type SupervisorOptions } from './options.js'
import { Slice, stopWithin } from './slice.js'
import { instancePartitions, slicePartitions } from './slicing.js'
import { stallMessage } from './stalls.js'
import { SupervisorMetrics } from './supervisor-metrics.js'
import {
  ExitCodes,
  listenError,
  type SliceState,
  type SupervisorEvents,
  type SupervisorResult,
} from './supervisor-types.js'

export { ExitCodes, type SupervisorEvents, type SupervisorResult } from './supervisor-types.js'

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly options: ResolvedSupervisorOptions
  readonly metrics = new SupervisorMetrics()
  readonly #root: Logger
  readonly #logger: Logger
  #slices: SliceState[] = []
  /** Group assignment: the member's loop, and its run (settles once the group was left). */
  #group: GroupAssignment | undefined
  #groupRun: Promise<void> | undefined
  /** Slices are being stopped for a rebalance: their failures are not restarted. */
  #draining = false
  #server: MetricsServer | undefined
  #phase: 'new' | 'running' | 'stopping' | 'done' = 'new'
  #halted = false
  /** start() in progress: stop() waits for it to settle, and start() launches nothing once stop() was called. */
  #startup: Promise<void> | undefined
  #stopWanted = false
  #ended = false
  #stallTimer: NodeJS.Timeout | undefined
  #finish: ((result: SupervisorResult) => void) | undefined
  /** Resolves when the job ends: stopped (stop(), a signal) or halted by a failure. */
  readonly done: Promise<SupervisorResult>

  constructor(options: SupervisorOptions) {
    super()
    this.options = parseSupervisorOptions(options)
    this.#root = this.options.logger ?? jsonLogger()
    this.#logger = this.#root.child({ component: 'supervisor' })
    this.done = new Promise((resolveDone) => {
      this.#finish = resolveDone
    })
  }

  /** Loads and validates the job, starts one worker per slice and the HTTP server. */
  start(): Promise<void> {
    // stop() before start(): the job is already over, there is nothing to start
    if (this.#stopWanted && this.#phase === 'done' && this.#startup === undefined) return Promise.resolve()
    if (this.#phase !== 'new') return Promise.reject(new Error('Supervisor.start() can be called once'))
    this.#phase = 'running'
    this.#startup = this.#start()
    return this.#startup
  }

  /** Ends a start-up that stop() interrupted: nothing was launched, the server (if any) is closed. */
  async #abandonStart(): Promise<void> {
    await this.#server?.close()
    this.#server = undefined
    this.#phase = 'done'
    this.#end({ reason: 'stopped', exitCode: ExitCodes.CLEAN, terminated: [] })
  }

  async #start(): Promise<void> {
    const jobPath = resolve(this.options.jobPath)
    let job: Awaited<ReturnType<typeof loadJob>>
    try {
      job = await loadJob(jobPath, true)
    } catch (error) {
      this.#phase = 'done'
      throw error
    }
    const group = (this.options.assignment ?? job.assignment) === 'group'
    let partitions: number[] = []
    try {
      if (group && (this.options.partitions || this.options.instance)) {
        throw new ConfigError('Supervisor', [
          {
            field: 'assignment',
            message: "partitions and instance apply to static assignment; under 'group' Kafka assigns them",
          },
        ])
      }
      if (!group) partitions = instancePartitions(this.options.partitions ?? job.inputPartitions, this.options.instance)
    } catch (error) {
      this.#phase = 'done'
      throw error
    }
    if (this.#stopWanted) return this.#abandonStart()
    if (this.options.metricsPort !== null) {
      this.#server = new MetricsServer(this.metrics, () => this.health())
      try {
        await this.#server.listen(this.options.metricsHost, this.options.metricsPort)
      } catch (error) {
        this.#server = undefined
        this.#phase = 'done'
        throw listenError(error, this.options.metricsHost, this.options.metricsPort)
      }
      if (this.#stopWanted) return this.#abandonStart()
    }
    const [metrics, onFailure] = [this.metricsUrl, this.options.onFailure]
    this.#stallTimer = setInterval(() => this.#checkStalls(), Math.min(this.options.metricsIntervalMs, 1000))
    this.#stallTimer.unref()
    if (!group) {
      const slices = this.#launchSlices(partitions, jobPath)
      this.metrics.assignedPartitions.set(partitions.length)
      this.#logger.info({ job: job.topicProcessorName, jobPath, slices, metrics, onFailure }, 'supervisor starting')
      return
    }
    const groupId = consumerGroupId(job.topicProcessorName)
    const where = { jobPath, assignment: 'group', groupId, groupInstanceId: this.options.groupInstanceId }
    this.#logger.info({ job: job.topicProcessorName, ...where, metrics, onFailure }, 'supervisor starting')
    this.#group = GroupAssignment.forJob(job, this.options, this.metrics, this.#root.child({ component: 'group' }), {
      assign: async (generation) => {
        const launch = (state: SliceState) => this.#launch(state, jobPath)
        await moveSlices(this.#slices, generation, { workers: this.options.workers, launch, logger: this.#logger })
        this.metrics.slices.set(this.#slices.filter((s) => s.partitions.length > 0).length)
      },
      stopSlices: async () => {
        this.#draining = true
        await this.#stopSlices()
        // the partitions are lost: the next generation starts from none
        for (const state of this.#slices) state.partitions = []
        this.#draining = false
      },
    })
    // every worker starts now, idle until the member's first assignment (group-slices.ts)
    this.#slices = Array.from({ length: this.options.workers }, (_, index) => newSliceState(index, [], NOT_JOINED))
    for (const state of this.#slices) this.#launch(state, jobPath)
    this.#groupRun = this.#group.run().catch((error: unknown) => {
      if (this.#phase !== 'running') return
      // the group cannot be joined: nothing runs, so the job halts (exit 2 when no retry can help)
      const serialized = serializeError(error)
      this.#logger.error({ err: error }, 'group assignment failed: halting the job')
      this.#halted = true
      this.metrics.halts.inc()
      this.emit('halted', { slice: -1, error: serialized })
      void this.#shutdown('halted', serialized, serialized.retriable === false ? ExitCodes.USAGE : ExitCodes.HALTED)
    })
  }

  /** Static assignment: cuts `partitions` into one slice per worker and launches them. */
  #launchSlices(partitions: number[], jobPath: string): number[][] {
    const { slices, idleWorkers } = slicePartitions(partitions, this.options.workers)
    if (idleWorkers > 0 && partitions.length > 0) {
      this.#logger.warn(
        { workers: this.options.workers, partitions: partitions.length, idleWorkers },
        'more workers than partitions: starting one worker per partition',
      )
    }
    this.metrics.slices.set(slices.length)
    this.#slices = slices.map((list, index) => newSliceState(index, list))
    for (const state of this.#slices) this.#launch(state, jobPath)
    return slices
  }

  /** Where /metrics, /healthz and /readyz are served (undefined when disabled). */
  get metricsUrl(): string | undefined {
    return this.#server?.url
  }

  health(): HealthState {
    return {
      healthy: !this.#halted && this.#phase === 'running' && !this.#slices.some((s) => s.stalled),
      // under group assignment a member with no partitions (more members than partitions) is ready too
      ready:
        this.#phase === 'running' &&
        (this.#group ? this.#group.current !== undefined : this.#slices.length > 0) &&
        this.#activeSlices.every((s) => s.started),
      slices: this.#activeSlices.map((s) => ({ slice: s.index, partitions: s.partitions, running: s.started })),
      ...(this.#group
        ? { generation: this.#group.current?.generationId ?? null, assigned: this.#group.current?.partitions ?? [] }
        : {}),
    }
  }

  /** Slices with partitions (under group assignment a slice index may have none this generation). */
  get #activeSlices(): SliceState[] {
    return this.#slices.filter((s) => s.partitions.length > 0)
  }

  /** Graceful stop: idempotent; resolves with the same result as `done`. */
  async stop(): Promise<SupervisorResult> {
    this.#stopWanted = true
    if (this.#phase === 'new') {
      this.#phase = 'done'
      this.#end({ reason: 'stopped', exitCode: ExitCodes.CLEAN, terminated: [] })
      return this.done
    }
    // during start(): let it settle (it launches nothing more once stop() was called)
    const failedStart = await this.#startup?.then(
      () => false,
      () => true,
    )
    if (failedStart) {
      this.#end({ reason: 'stopped', exitCode: ExitCodes.CLEAN, terminated: [] })
    } else if (this.#phase === 'running') {
      void this.#shutdown('stopped')
    }
    return this.done
  }

  #launch(state: SliceState, jobPath: string) {
    const slice = new Slice(
      state.index,
      state.partitions,
      {
        jobPath,
        metricsIntervalMs: this.options.metricsIntervalMs,
        ...(state.generation ? { generation: state.generation } : {}),
      },
      {
        maxOldGenerationMb: this.options.workerMaxOldGenerationMb,
        maxYoungGenerationMb: this.options.workerMaxYoungGenerationMb,
      },
    )
    state.current = slice
    state.started = false
    state.launchedAt = Date.now()
    state.progress = undefined
    state.stalled = false
    slice.on('started', () => {
      state.started = true
      this.#updateUp()
      this.#logger.info(
        { slice: state.index, partitions: state.partitions, restarts: state.restartTimes.length },
        'slice started',
      )
      this.emit('slice-started', {
        slice: state.index,
        partitions: state.partitions,
        restarts: state.restartTimes.length,
      })
    })
    slice.on('metrics', (metrics, progress) => {
      this.metrics.update(state.index, metrics)
      if (progress) state.progress = { ...progress, reportedAt: Date.now() }
    })
    slice.on('failed', (failure) => {
      this.metrics.endRun(state.index)
      state.started = false
      state.current = undefined
      this.#updateUp()
      this.metrics.failures.inc({ slice: state.index, kind: failure.kind })
      this.#logger.error(
        {
          slice: state.index,
          partitions: state.partitions,
          kind: failure.kind,
          exitCode: failure.exitCode,
          // one stack per failure: when the worker logged it, this line names the error without it
          ...(failure.logged
            ? { code: failure.error.code, retriable: failure.error.retriable }
            : { err: failure.error }),
        },
        `slice ${state.index} failed: ${failure.error.code ? `${failure.error.code}: ` : ''}${failure.error.message}`,
      )
      this.emit('slice-failed', {
        slice: state.index,
        partitions: state.partitions,
        kind: failure.kind,
        error: failure.error,
      })
      if (this.#phase === 'running' && !this.#draining) this.#onFailure(state, failure.error, jobPath)
    })
    slice.on('stopped', () => {
      this.metrics.endRun(state.index)
      state.started = false
      state.current = undefined
      this.#updateUp()
    })
  }

  #onFailure(state: SliceState, error: SerializedError, jobPath: string) {
    if (this.#group && error.code === ErrorCodes.ASSIGNMENT_LOST) {
      // Kafka refused a commit of this generation: a revocation, not a failure (no restart budget spent)
      this.#logger.warn({ slice: state.index }, 'the group refused a commit of this generation: rejoining')
      return this.#group.revoked(error)
    }
    if (error.retriable === false) {
      // configuration, topic layout, output that cannot exist: no restart can help, under any policy
      this.#logger.error(
        { slice: state.index, code: error.code },
        'the failure is not retriable: halting the job (exit 2) instead of restarting',
      )
      return this.#halt(state, error, ExitCodes.USAGE)
    }
    if (this.options.onFailure === 'halt') return this.#halt(state, error)
    const now = Date.now()
    state.restartTimes = state.restartTimes.filter((t) => now - t < this.options.restartWindowMs)
    if (state.restartTimes.length >= this.options.maxRestarts) {
      this.#logger.error(
        { slice: state.index, restarts: state.restartTimes.length, windowMs: this.options.restartWindowMs },
        'slice exceeded maxRestarts within restartWindowMs: halting the job',
      )
      return this.#halt(state, error)
    }
    const attempt = state.restartTimes.length + 1
    const delayMs = Math.min(this.options.restartBackoffMs * 2 ** (attempt - 1), this.options.restartBackoffMaxMs)
    state.restartTimes.push(now)
    this.#logger.warn({ slice: state.index, attempt, delayMs }, 'restarting slice after back-off')
    state.restartTimer = setTimeout(() => {
      state.restartTimer = undefined
      if (this.#phase !== 'running') return
      this.metrics.restarts.inc({ slice: state.index })
      this.emit('slice-restarted', { slice: state.index, attempt, delayMs })
      this.#launch(state, jobPath)
    }, delayMs)
  }

  /**
   * A slice is stalled when input waits and no batch completed for stallTimeoutMs, or when its
   * worker has not reported for that long: unhealthy, counted, its thread ended, the policy applied.
   */
  #checkStalls() {
    if (this.#phase !== 'running') return
    const now = Date.now()
    const limit = this.options.stallTimeoutMs
    for (const state of this.#slices) {
      const slice = state.current
      if (!slice || state.stalled) continue
      const message = stallMessage(state, now, limit)
      if (message === undefined) continue
      state.stalled = true
      this.metrics.stalls.inc({ slice: state.index })
      this.#logger.error({ slice: state.index, partitions: state.partitions }, `slice stalled: ${message}`)
      void slice.failStalled({ name: 'SliceStalled', code: ErrorCodes.SLICE_STALLED, message, retriable: true })
    }
  }

  #halt(state: SliceState, error: SerializedError, exitCode: number = ExitCodes.HALTED) {
    if (this.#halted) return
    this.#halted = true
    this.metrics.halts.inc()
    this.emit('halted', { slice: state.index, error })
    void this.#shutdown('halted', error, exitCode)
  }

  async #shutdown(reason: 'stopped' | 'halted', error?: SerializedError, haltCode: number = ExitCodes.HALTED) {
    if (this.#phase !== 'running') return
    this.#phase = 'stopping'
    clearInterval(this.#stallTimer)
    this.#logger.info({ reason, deadlineMs: this.options.shutdownTimeoutMs }, 'stopping every slice gracefully')
    this.#group?.stop()
    const terminated = await this.#stopSlices()
    // the member leaves the group (a static member does not) once its slices have committed
    await Promise.race([this.#groupRun, new Promise((r) => setTimeout(r, 5000).unref())])
    await this.#server?.close()
    this.#phase = 'done'
    const exitCode = (
      reason === 'halted' ? haltCode : terminated.length > 0 ? ExitCodes.TERMINATED : ExitCodes.CLEAN
    ) as SupervisorResult['exitCode']
    this.#end({ reason, exitCode, terminated: terminated.sort(), ...(error ? { error } : {}) })
  }

  /** Asks every slice to finish, produce and commit; terminates those past shutdownTimeoutMs (returned). */
  #stopSlices(): Promise<number[]> {
    return stopWithin(this.#slices, this.options.shutdownTimeoutMs, this.#logger)
  }

  #end(result: SupervisorResult) {
    if (this.#ended) return
    this.#ended = true
    this.#logger.info(
      { reason: result.reason, exitCode: result.exitCode, terminated: result.terminated },
      'supervisor stopped',
    )
    this.emit('stopped', result)
    this.#finish?.(result)
  }

  #updateUp() {
    this.metrics.workersUp.set(this.#slices.filter((s) => s.started).length)
  }
}
