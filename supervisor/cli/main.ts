#!/usr/bin/env node
/**
 * The `kasper` entry. It catches SIGTERM and SIGINT before anything else loads, so a signal at any
 * moment of start-up stops the daemon gracefully (a log line, exit 0) instead of killing it, and
 * under npm it also stops when npm goes away; the CLI itself is in cli.ts.
 */
import type { SignalLatch } from './cli.js'

const latch: SignalLatch = {}
const onSignal = (signal: NodeJS.Signals) => {
  if (latch.onSignal) latch.onSignal(signal)
  else latch.received ??= signal
}
process.on('SIGTERM', onSignal)
process.on('SIGINT', onSignal)

// npm (npx, npm exec, npm start) runs us through `sh -c`: a SIGTERM to npm (a container stop with npx
// as the entrypoint) ends npm and that shell and never reaches us, which would leave us running,
// orphaned. Launched by npm, we take our parent's going away as that SIGTERM.
if (process.env.npm_command !== undefined) {
  const parent = process.ppid
  const watch = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(watch)
    onSignal('SIGTERM')
  }, 250)
  watch.unref()
}

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
