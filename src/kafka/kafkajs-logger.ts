import { type logCreator, logLevel } from 'kafkajs'
import type { Logger } from '../logging/logger.js'

/**
 * Routes kafkajs's own log lines into a kasper-ts Logger (instead of kafkajs's console logger),
 * under `component: "kafkajs"`. kafkajs errors are usually transient (a broker restarting, a
 * leader moving) and kasper-ts reports what matters itself, so they land at warn, the rest at debug.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' })
  return () =>
    ({ level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log
      const text = `kafkajs: ${message}`
      if (level === logLevel.ERROR || level === logLevel.WARN) child.warn(fields, text)
      else child.debug(fields, text)
    }
}
