import { format } from 'node:util'
import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from './logger.js'

export interface TextLoggerOptions {
  label?: string
  /** @defaultValue 'info' */
  level?: LogLevel
  /** @defaultValue process.stderr.write */
  write?: (line: string) => void
}

function renderValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message)
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value
  return format('%j', value)
}

/** One human-readable line per entry: `2026-11-25T07:42:18.000Z INFO [label] message key=value ...`. */
export function textLogger(options: TextLoggerOptions = {}, bindings: LogFields = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info')
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const log = (level: LogLevel, fields: LogFields, message: string) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return
    const all = { ...bindings, ...fields }
    const pairs = Object.entries(all).map(([k, v]) => `${k}=${renderValue(v)}`)
    const label = options.label === undefined ? '' : ` [${options.label}]`
    write(
      `${new Date().toISOString()} ${level.toUpperCase()}${label} ${message}${pairs.length ? ` ${pairs.join(' ')}` : ''}\n`,
    )
  }
  return {
    debug: (f, m) => log('debug', f, m),
    info: (f, m) => log('info', f, m),
    warn: (f, m) => log('warn', f, m),
    error: (f, m) => log('error', f, m),
    child: (more) => textLogger(options, { ...bindings, ...more }),
  }
}
