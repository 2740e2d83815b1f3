import { pino } from 'pino'
import type { Logger, LogLevel } from './logger.js'

export interface JsonLoggerOptions {
  /** Bound as `label` on every line (Kasper's logger label), e.g. `twitter-reach-0`. */
  label?: string
  /** @defaultValue 'info' */
  level?: LogLevel
  /** Where lines go: a file descriptor. @defaultValue 1 (stdout) */
  destination?: number
}

/** pino JSON lines: `{"level":"info","time":...,"label":"...","partition":3,"msg":"..."}`. Errors under `err` with their cause. */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const base = options.label === undefined ? {} : { label: options.label }
  return pino(
    {
      level: options.level ?? 'info',
      base,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    pino.destination({ fd: options.destination ?? 1, sync: true }),
  )
}
