#!/usr/bin/env node
/**
 * The `kasper` entry. It catches SIGTERM and SIGINT before anything else loads, so a signal at any
 * moment of start-up stops the daemon gracefully (a log line, exit 0) instead of killing it; the
 * CLI itself is in cli.ts.
 */
import type { SignalLatch } from './cli.js'

const latch: SignalLatch = {}
const onSignal = (signal: NodeJS.Signals) => {
  if (latch.onSignal) latch.onSignal(signal)
  else latch.received ??= signal
}
process.on('SIGTERM', onSignal)
process.on('SIGINT', onSignal)

const { buildCli } = await import('./cli.js')
const { CommanderError } = await import('commander')
const USAGE = 2
try {
  await buildCli(latch).parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : USAGE
  } else {
    process.stderr.write(`kasper: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = USAGE
  }
}
