/**
 * kill -9 of the daemon at random points, N cycles, then a clean run to the end. After every kill:
 * no committed offset is ahead of the acked output (every input below a committed offset has its
 * output). At the end: every input has its output, and every duplicate comes from a batch that was
 * uncommitted at some kill: its input offset lies in [committed, committed + 2 × batchSize) of its
 * partition at that kill (at most two batches of a partition are past their produce and not yet
 * committed: the one whose commit is in flight and the one being produced).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Kafka } from 'kafkajs'
import { readCommittedRecords } from '../helpers/cluster.js'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import { brokers, committedOffsets, createTopics, endOffsets, produce, readTopic, waitFor } from '../helpers/kafka.js'

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

interface Daemon {
  child: ChildProcess
  exit: Promise<number | null>
  /** Set once the process has exited. */
  exited?: number | null
  log: string
}

/** The daemon logs at info to its own file, read back when a run goes wrong. */
function daemon(env: Record<string, string>, log: string): Daemon {
  const fd = openSync(log, 'a')
  const child = spawn(process.execPath, [CLI, 'run', ECHO_JOB, '--workers', '2', '--metrics-port', '0'], {
    env: { ...process.env, ...env, KASPER_TEST_LOG_LEVEL: 'info' },
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const run: Daemon = { child, exit: Promise.resolve(null), log }
  run.exit = new Promise((r) =>
    child.once('exit', (code) => {
      run.exited = code
      r(code)
    }),
  )
  return run
}

const logTail = (path: string, lines = 40) => readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')

/**
 * `exactlyOnce`: the job runs with guarantee 'exactly-once'; the audit reads committed data only, as
 * every reader here does (read_committed), and then no duplicate is allowed at all.
 */
export async function runKillCycles(
  kafka: Kafka,
  cycles: number,
  perPartition: number,
  { exactlyOnce = false } = {},
): Promise<KillCycleFigures> {
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
  const env = {
    ...echoJobEnv({ ...names, partitions, mode: 'slow', slowMs: 100, batchSize }),
    ...(exactlyOnce ? { KASPER_TEST_GUARANTEE: 'exactly-once' } : {}),
  }
  const group = `kasper-topic-processor-${names.name}`
  /**
   * The output's values. Under exactly-once, read by Kafka's console consumer (read_committed): the
   * kafkajs reader returned records of aborted transactions as committed (500 of them in one run,
   * where Kafka's tool read 32,000 records, none twice).
   */
  const readOutput = async (count: number, timeoutMs: number): Promise<string[]> => {
    if (!exactlyOnce) return (await readTopic(kafka, names.output, count, timeoutMs)).map((m) => m.value as string)
    const admin = kafka.admin()
    await admin.connect()
    try {
      return (await readCommittedRecords(brokers(), admin, names.output, { transactional: true })).map((r) => r.value)
    } finally {
      await admin.disconnect()
    }
  }
  const logs = mkdtempSync(join(tmpdir(), 'kasper-kill9-'))
  /** Per kill: the committed offset of each partition right after the kill. */
  const committedAtKills: Map<number, number>[] = []
  let committedAheadOfOutput = 0

  for (let cycle = 0; cycle < cycles; cycle++) {
    const run = daemon(env, join(logs, `cycle-${cycle + 1}.log`))
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 1800))
    run.child.kill('SIGKILL')
    await run.exit
    const committed = new Map(
      [...(await committedOffsets(kafka, group, names.input))].map(([p, o]) => [p, Math.max(0, Number(o))]),
    )
    committedAtKills.push(committed)
    const expected = [...committed.values()].reduce((a, b) => a + b, 0)
    const seen = new Set(await readOutput(expected, 10_000))
    for (const [partition, offset] of committed) {
      for (let i = 0; i < offset; i++) if (!seen.has(value(partition, i))) committedAheadOfOutput++
    }
  }

  // the end offsets, not perPartition: they are what a finished run commits, whatever the input holds
  const ends = await endOffsets(kafka, names.input)
  const last = daemon(env, join(logs, 'last.log'))
  let committedLast = new Map<number, string>()
  try {
    await waitFor(
      async () => {
        if (last.exited !== undefined) return true
        committedLast = await committedOffsets(kafka, group, names.input)
        const done = [...committedLast].every(([p, o]) => Number(o) === ends.get(p))
        return (done && committedLast.size === partitions) || undefined
      },
      120_000,
      250,
    )
  } catch (error) {
    last.child.kill('SIGKILL')
    throw new Error(
      `the last run did not commit every input (committed ${JSON.stringify([...committedLast])}, ends ${JSON.stringify([...ends])}): ${String(error)}\n${logTail(last.log)}`,
    )
  }
  if (last.exited !== undefined)
    throw new Error(`the last run exited with ${last.exited} before committing every input:\n${logTail(last.log)}`)
  last.child.kill('SIGTERM')
  await last.exit

  const outputs = await readOutput(inputs.length, 20_000)
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
