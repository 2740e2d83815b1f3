/**
 * kill -9 of the daemon at random points, N cycles, then a clean run to the end. After every kill:
 * no committed offset is ahead of the acked output (every input below a committed offset has its
 * output). At the end: every input has its output, and every duplicate comes from a batch that was
 * uncommitted at some kill: its input offset lies in [committed, committed + 2 × batchSize) of its
 * partition at that kill (at most two batches of a partition are past their produce and not yet
 * committed: the one whose commit is in flight and the one being produced).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import type { Kafka } from 'kafkajs'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import { committedOffsets, createTopics, produce, readTopic, waitFor } from '../helpers/kafka.js'

const CLI = resolve('dist/supervisor/cli/main.js')

export interface KillCycleFigures {
  cycles: number
  inputs: number
  outputs: number
  duplicates: number
  duplicatesOutsideUncommittedBatches: number
  lost: number
  committedAheadOfOutput: number
  /** Inputs committed right after each kill: the kills land at different points of the run. */
  committedAtEachKill: number[]
  seconds: number
}

const value = (partition: number, i: number) => `p${partition}-i${i}`
const parse = (v: string) => {
  const m = /^p(\d+)-i(\d+)$/.exec(v)
  return m ? { partition: Number(m[1]), offset: Number(m[2]) } : undefined
}

function daemon(env: Record<string, string>): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'run', ECHO_JOB, '--workers', '2', '--metrics-port', '0'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  })
  return { child, exit: new Promise((r) => child.once('exit', (code) => r(code))) }
}

export async function runKillCycles(kafka: Kafka, cycles: number, perPartition: number): Promise<KillCycleFigures> {
  const started = Date.now()
  const partitions = 4
  const names = jobNames()
  await createTopics(kafka, [names.input, names.output], partitions)
  const inputs = Array.from({ length: partitions * perPartition }, (_, n) => {
    const partition = n % partitions
    const i = Math.floor(n / partitions)
    return { key: value(partition, i), value: value(partition, i), partition }
  })
  await produce(kafka, names.input, inputs)
  const batchSize = 100
  const env = echoJobEnv({ ...names, partitions, mode: 'slow', slowMs: 100, batchSize })
  const group = `kasper-topic-processor-${names.name}`
  /** Per kill: the committed offset of each partition right after the kill. */
  const committedAtKills: Map<number, number>[] = []
  let committedAheadOfOutput = 0

  for (let cycle = 0; cycle < cycles; cycle++) {
    const run = daemon(env)
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 1800))
    run.child.kill('SIGKILL')
    await run.exit
    const committed = new Map(
      [...(await committedOffsets(kafka, group, names.input))].map(([p, o]) => [p, Math.max(0, Number(o))]),
    )
    committedAtKills.push(committed)
    const expected = [...committed.values()].reduce((a, b) => a + b, 0)
    const seen = new Set((await readTopic(kafka, names.output, expected, 10_000)).map((m) => m.value as string))
    for (const [partition, offset] of committed) {
      for (let i = 0; i < offset; i++) if (!seen.has(value(partition, i))) committedAheadOfOutput++
    }
  }

  const last = daemon(env)
  await waitFor(
    async () => {
      const c = await committedOffsets(kafka, group, names.input)
      return ([...c.values()].every((o) => Number(o) === perPartition) && c.size === partitions) || undefined
    },
    120_000,
    250,
  )
  last.child.kill('SIGTERM')
  await last.exit

  const outputs = (await readTopic(kafka, names.output, inputs.length, 20_000)).map((m) => m.value as string)
  const counts = new Map<string, number>()
  for (const v of outputs) counts.set(v, (counts.get(v) ?? 0) + 1)
  const lost = inputs.filter((m) => !counts.has(m.value)).length
  let duplicates = 0
  let duplicatesOutsideUncommittedBatches = 0
  for (const [v, n] of counts) {
    if (n < 2) continue
    duplicates += n - 1
    const at = parse(v)
    const replayable =
      at !== undefined &&
      committedAtKills.some((c) => {
        const committed = c.get(at.partition) ?? 0
        return at.offset >= committed && at.offset < committed + 2 * batchSize
      })
    if (!replayable) duplicatesOutsideUncommittedBatches += n - 1
  }
  return {
    cycles,
    inputs: inputs.length,
    outputs: outputs.length,
    duplicates,
    duplicatesOutsideUncommittedBatches,
    lost,
    committedAheadOfOutput,
    committedAtEachKill: committedAtKills.map((c) => [...c.values()].reduce((a, b) => a + b, 0)),
    seconds: Math.round((Date.now() - started) / 1000),
  }
}
