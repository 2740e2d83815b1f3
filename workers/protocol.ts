/**
 * Messages between the supervisor and a slice's worker thread. Everything here is structured-cloneable.
 *
 *   supervisor ── WorkerData ──────────▶ worker (at start)
 *   supervisor ── { type: 'stop' } ────▶ worker: close gracefully (finish, produce, commit)
 *   supervisor ── { type: 'assign' } ──▶ worker: group assignment, a new generation (reassign())
 *   worker ── 'started' | 'metrics' | 'assigned' | 'failed' | 'stopped' ──▶ supervisor
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client'
import type { SerializedError } from '../src/errors.js'

export interface WorkerData {
  jobPath: string
  slice: number
  partitions: number[]
  /** How often the worker sends its metrics. */
  metricsIntervalMs: number
  /** Group assignment: the generation the supervisor's member joined; the slice's commits carry it. */
  generation?: { generationId: number; memberId: string }
}

export type ToWorker =
  | { type: 'stop' }
  /** The member joined `generation`: this slice now runs `partitions` (TopicProcessor.reassign). */
  | { type: 'assign'; id: number; generation: { generationId: number; memberId: string }; partitions: number[] }

/** A slice's liveness: when its processor last completed a batch (or idled), and what waits. */
export interface SliceProgress {
  lastProgressAt: number
  waiting: number
}

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[]

export type FromWorker =
  | { type: 'started'; slice: number; partitions: number[] }
  | { type: 'metrics'; slice: number; metrics: WorkerMetrics; progress?: SliceProgress }
  /** An 'assign' is applied: `released` were committed and let go, `added` are being read. */
  | { type: 'assigned'; slice: number; id: number; released: number[]; added: number[] }
  /** `logged`: the worker's processor already logged this error with its stack. */
  | { type: 'failed'; slice: number; error: SerializedError; logged?: boolean }
  | { type: 'stopped'; slice: number }

export function isFromWorker(value: unknown): value is FromWorker {
  const type = (value as { type?: unknown } | null)?.type
  return type === 'started' || type === 'metrics' || type === 'assigned' || type === 'failed' || type === 'stopped'
}
