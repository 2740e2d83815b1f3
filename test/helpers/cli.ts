import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'

/** The compiled CLI entry (npm test builds first). */
export const CLI = resolve('dist/supervisor/cli/main.js')

export interface CliRun {
  child: ChildProcess
  /** The exit code (128 when a signal ended the process). */
  exit: Promise<number>
  /** stdout and stderr so far, interleaved. */
  output: () => string
}

/** Runs `kasper <args>` with extra environment, capturing its output. */
export function kasper(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const exit = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : 1))))
  return { child, exit, output: () => output }
}
