import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { SerializedError } from '../src/errors.js'
import type { Logger } from '../src/logging/logger.js'
import {
  type FromWorker,
  isFromWorker,
  type SliceProgress,
  type ToWorker,
  type WorkerData,
  type WorkerMetrics,
} from '../workers/protocol.js'

/** The compiled worker entry: next to this file once built, or under dist/ when run from source. */
export function workerEntry(): URL {
  const candidates = [
    new URL('../workers/entry.js', import.meta.url),
    new URL('../dist/workers/entry.js', import.meta.url),
  ]
  const found = candidates.find((url) => existsSync(fileURLToPath(url)))
  if (!found) throw new Error('workers/entry.js not found: run `npm run build` first')
  return found
}

/** What a reassignment changed in a slice. */
export interface Reassigned {
  released: number[]
  added: number[]
}

export type FailureKind = 'error' | 'exit' | 'out_of_memory' | 'stalled'

export interface SliceFailure {
  kind: FailureKind
  error: SerializedError
  exitCode: number
  /** The worker already logged the error with its stack. */
  logged?: boolean
}

export interface SliceEvents {
  started: []
  metrics: [WorkerMetrics, SliceProgress | undefined]
  /** The worker ended without being asked to, or its processor failed. */
  failed: [SliceFailure]
  /** The worker ended after a stop request (or was terminated at the deadline). */
  stopped: [{ graceful: boolean }]
}

/**
 * One run of one slice on one worker thread. A Slice is used once: a restart makes a new one.
 * Failure detection: a 'failed' message (processor error; a thread that does not exit within
 * FAILED_EXIT_GRACE_MS after it is terminated), an uncaught error in the thread, an exit without a
 * request (process.exit), or ERR_WORKER_OUT_OF_MEMORY under resourceLimits.
 */
/** How long a thread that reported failure may take to exit before it is terminated (open sockets, timers). */
export const FAILED_EXIT_GRACE_MS = 5000

export class Slice extends EventEmitter<SliceEvents> {
  readonly #worker: Worker
  #stopRequested = false
  #graceTimer: NodeJS.Timeout | undefined
  #stalled: SerializedError | undefined
  /** The worker's 'failed' message, if it sent one. */
  #reported: { error: SerializedError; logged?: boolean } | undefined
  #threadError: Error | undefined
  #ended = false
  /** Reassignments sent and not yet applied, by id. */
  readonly #assigning = new Map<number, { resolve: (r: Reassigned) => void; reject: (e: Error) => void }>()
  #nextAssign = 0
  readonly exited: Promise<number>

  constructor(
    readonly index: number,
    /** The partitions the worker started with (under group assignment the slice's state holds the current ones). */
    readonly partitions: readonly number[],
    data: Omit<WorkerData, 'slice' | 'partitions'>,
    limits: { maxOldGenerationMb?: number; maxYoungGenerationMb?: number } = {},
  ) {
    super()
    const workerData: WorkerData = { ...data, slice: index, partitions: [...partitions] }
    this.#worker = new Worker(workerEntry(), {
      workerData,
      resourceLimits: {
        ...(limits.maxOldGenerationMb ? { maxOldGenerationSizeMb: limits.maxOldGenerationMb } : {}),
        ...(limits.maxYoungGenerationMb ? { maxYoungGenerationSizeMb: limits.maxYoungGenerationMb } : {}),
      },
    })
    this.#worker.on('message', (message: unknown) => this.#onMessage(message))
    this.#worker.on('error', (error) => {
      this.#threadError = error
    })
    this.exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#onExit(code)
        resolve(code)
      })
    })
  }

  /** Asks the worker to finish its batch, commit and exit. */
  stop(): void {
    this.#stopRequested = true
    this.#worker.postMessage({ type: 'stop' } satisfies ToWorker)
  }

  /**
   * Group assignment: the worker's processor moves to `partitions` under `generation` (kept ones run
   * on, released ones are committed and let go first). Resolves once applied; rejects if the thread
   * ends first (its failure is reported as 'failed').
   */
  reassign(generation: { generationId: number; memberId: string }, partitions: readonly number[]): Promise<Reassigned> {
    if (this.#ended) return Promise.reject(new Error(`slice ${this.index} has ended`))
    const id = ++this.#nextAssign
    const applied = new Promise<Reassigned>((resolve, reject) => this.#assigning.set(id, { resolve, reject }))
    this.#worker.postMessage({ type: 'assign', id, generation, partitions: [...partitions] } satisfies ToWorker)
    return applied
  }

  /** Ends the thread at once (the batch in flight is not committed and will be replayed). */
  async terminate(): Promise<void> {
    this.#stopRequested = true
    await this.#worker.terminate()
  }

  /** Ends a thread that makes no progress; its exit is reported as a 'stalled' failure. */
  async failStalled(error: SerializedError): Promise<void> {
    this.#stalled = error
    await this.#worker.terminate()
  }

  get threadId(): number {
    return this.#worker.threadId
  }

  #onMessage(message: unknown) {
    if (!isFromWorker(message)) return
    const m = message as FromWorker
    if (m.type === 'started') this.emit('started')
    else if (m.type === 'metrics') this.emit('metrics', m.metrics, m.progress)
    else if (m.type === 'assigned') {
      this.#assigning.get(m.id)?.resolve({ released: m.released, added: m.added })
      this.#assigning.delete(m.id)
    } else if (m.type === 'failed') {
      this.#reported = m
      // the failure is what counts, not the exit: a thread kept alive by a handle its job left open
      // (a timer, a client not registered with onClose, a process() still running) is ended
      this.#graceTimer ??= setTimeout(() => void this.#worker.terminate(), FAILED_EXIT_GRACE_MS)
      this.#graceTimer.unref()
    }
  }

  #onExit(code: number) {
    clearTimeout(this.#graceTimer)
    if (this.#ended) return
    this.#ended = true
    for (const { reject } of this.#assigning.values()) reject(new Error(`slice ${this.index} ended (exit ${code})`))
    this.#assigning.clear()
    const threadError = this.#threadError as (Error & { code?: string }) | undefined
    if (this.#stalled) {
      this.emit('failed', { kind: 'stalled', error: this.#stalled, exitCode: code })
    } else if (threadError?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      this.emit('failed', { kind: 'out_of_memory', error: toSerialized(threadError), exitCode: code })
    } else if (this.#reported) {
      this.emit('failed', {
        kind: 'error',
        error: this.#reported.error,
        exitCode: code,
        logged: this.#reported.logged === true,
      })
    } else if (threadError) {
      this.emit('failed', { kind: 'error', error: toSerialized(threadError), exitCode: code })
    } else if (!this.#stopRequested) {
      this.emit('failed', {
        kind: 'exit',
        error: { name: 'WorkerExit', message: `worker thread exited with code ${code} without being asked to stop` },
        exitCode: code,
      })
    } else {
      this.emit('stopped', { graceful: code === 0 })
    }
  }
}

function toSerialized(error: Error & { code?: string }): SerializedError {
  return {
    name: error.name,
    message: error.message,
    ...(error.code ? { code: error.code } : {}),
    ...(error.stack ? { stack: error.stack } : {}),
  }
}

/**
 * Asks every running slice of `states` to finish its batch, produce, commit and exit; a slice still
 * running after `deadlineMs` has its thread terminated (its batch will be replayed). Returns those.
 */
export async function stopWithin(
  states: readonly { index: number; current: Slice | undefined; restartTimer: NodeJS.Timeout | undefined }[],
  deadlineMs: number,
  logger: Logger,
): Promise<number[]> {
  for (const state of states) {
    clearTimeout(state.restartTimer)
    state.current?.stop()
  }
  const deadline = new Promise<'deadline'>((r) => setTimeout(() => r('deadline'), deadlineMs).unref())
  const terminated: number[] = []
  await Promise.all(
    states
      .filter((s) => s.current)
      .map(async (state) => {
        const slice = state.current as Slice
        if ((await Promise.race([slice.exited, deadline])) !== 'deadline') return
        terminated.push(state.index)
        logger.error({ slice: state.index }, 'slice did not stop before shutdownTimeoutMs: terminating its thread')
        await slice.terminate()
      }),
  )
  return terminated
}
