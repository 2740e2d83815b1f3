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
      const expected = EXPECTED_ANSWERS.has(String((fields as { error?: unknown }).error))
      if ((level === logLevel.ERROR || level === logLevel.WARN) && !expected) child.warn(fields, text)
      else child.debug(fields, text)
    }
}

/**
 * Answers of the group protocol's normal course that kafkajs logs as errors: a commit or heartbeat
 * that meets a rebalance, a commit sent again with the next generation, a first JoinGroup without a
 * member id (KIP-394). kasper-ts handles each and logs what it does about it.
 */
const EXPECTED_ANSWERS = new Set([
  'Specified group generation id is not valid',
  'The group is rebalancing, so a rejoin is needed',
  'The group member needs to have a valid member id before actually entering a consumer group',
])
