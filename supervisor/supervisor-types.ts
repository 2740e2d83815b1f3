import { ConfigError, type SerializedError } from '../src/errors.js'
import type { SliceProgress } from '../workers/protocol.js'
import type { FailureKind, Slice } from './slice.js'

/** The metrics server could not listen: a configuration error naming the setting (and its CLI flag). */
export function listenError(error: unknown, host: string, port: number): ConfigError {
  const code = (error as { code?: string }).code
  const [field, flag, why] =
    code === 'EADDRINUSE'
      ? ['metricsPort', '--metrics-port', `${host}:${port} is already in use`]
      : code === 'EACCES'
        ? ['metricsPort', '--metrics-port', `no permission to listen on ${host}:${port}`]
        : ['metricsHost', '--metrics-host', `cannot listen on ${host}:${port} (${code ?? (error as Error).message})`]
  return new ConfigError('Supervisor', [{ field: `${field} (${flag})`, message: why }])
}

export const ExitCodes = { CLEAN: 0, HALTED: 1, USAGE: 2, TERMINATED: 3 } as const

export interface SupervisorResult {
  reason: 'stopped' | 'halted'
  exitCode: (typeof ExitCodes)[keyof typeof ExitCodes]
  /** Slices whose threads had to be terminated at the shutdown deadline. */
  terminated: number[]
  error?: SerializedError
}

export interface SupervisorEvents {
  'slice-started': [{ slice: number; partitions: readonly number[]; restarts: number }]
  'slice-failed': [{ slice: number; partitions: readonly number[]; kind: FailureKind; error: SerializedError }]
  'slice-restarted': [{ slice: number; attempt: number; delayMs: number }]
  halted: [{ slice: number; error: SerializedError }]
  stopped: [SupervisorResult]
}

export interface SliceState {
  index: number
  partitions: number[]
  current: Slice | undefined
  started: boolean
  /** When the current worker was launched, and its last progress report (liveness). */
  launchedAt: number
  progress: (SliceProgress & { reportedAt: number }) | undefined
  stalled: boolean
  restartTimes: number[]
  restartTimer: NodeJS.Timeout | undefined
  /** Group assignment: the generation the slice's commits carry. */
  generation?: { generationId: number; memberId: string }
}
