/** Runs a benchmark mode in a process of its own (bench/mode.ts) and reads what it measured. */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ModeResult, ModeSpec } from './mode.js'

/** CPU seconds (user + system) of a process, from /proc (Linux); null where unavailable. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

/** Runs one mode in a process of its own (bench/mode.ts). */
export async function runModeProcess(spec: ModeSpec): Promise<ModeResult> {
  // BENCH_NODE_FLAGS: flags for the mode's Node (e.g. --trace-gc, or the heap flags of docs/operations.md)
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
  const child = spawn(
    process.execPath,
    [...flags, fileURLToPath(new URL('./mode.js', import.meta.url)), JSON.stringify(spec)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  if (code !== 0) throw new Error(`benchmark mode ${spec.mode}:${spec.workload} exited with ${code}`)
  const lines = out.trim().split('\n')
  // anything the mode's Node printed before its result (e.g. --trace-gc) goes to stderr
  if (lines.length > 1) process.stderr.write(`${lines.slice(0, -1).join('\n')}\n`)
  const measured = JSON.parse(lines.at(-1) ?? '{}') as ModeResult
  return {
    ...measured,
    mode: spec.mode.startsWith('supervisor-')
      ? `supervisor-${spec.mode.split('-')[1]}w`
      : spec.mode.startsWith('group-') || spec.mode.startsWith('static-')
        ? `${spec.mode}x1w`
        : spec.mode,
    cpuSeconds: { node: measured.cpuSeconds.node, broker: null },
  }
}
