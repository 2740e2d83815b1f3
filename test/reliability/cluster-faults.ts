/**
 * One fault scenario on the 3-node cluster: a live input (a producer that keeps writing, acks =
 * all, retrying until acked), `kasper run` with 2 workers passing every message through, faults
 * injected while it runs, then an audit from outside the process with Kafka's own Java consumer:
 *   lost                    inputs (by value) with no output
 *   committedAheadOfOutput  inputs below a committed offset sampled during the run, with no output
 *   commitsAtEnd            every input partition's committed offset reached its end offset
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type TestCluster, topicOffsets } from '../helpers/cluster.js'
import { ECHO_JOB, jobNames } from '../helpers/jobs.js'
import type { NetNamespace } from '../helpers/netns.js'

const CLI = resolve('dist/supervisor/cli/main.js')

export interface FaultContext {
  cluster: TestCluster
  /** The job's consumer group. */
  group: string
  /** How many daemons the scenario runs. */
  daemons: number
  input: string
  output: string
  partitions: number
  log: (line: string) => void
  /** kill -9 of daemon `index`, then the same daemon (same arguments) started again. */
  killDaemon: (index: number) => Promise<void>
  /** Ends daemon `index` with `signal` (and waits for it to exit). */
  stopDaemon: (index: number, signal: NodeJS.Signals) => Promise<void>
  /** Starts daemon `index` again, with its arguments. */
  startDaemon: (index: number) => void
  /** Writes a marker line into the daemons' log (figures are read against it). */
  mark: (msg: string, fields?: Record<string, unknown>) => number
  /** Resolves with the first line of the daemons' JSON log that matches (given every line), waiting for it. */
  waitForLine: (
    match: (line: LogLine, all: readonly LogLine[]) => boolean,
    timeoutMs: number,
    what: string,
  ) => Promise<LogLine>
}

/** One line of the daemons' JSON log (pino), or a test marker. */
export interface LogLine {
  time: number
  msg: string
  groupInstanceId?: string
  generationId?: number
  memberId?: string
  partitions?: number[]
  /** Partitions an assignment gave this daemon that it did not run before. */
  added?: number[]
  instance?: string
  [field: string]: unknown
}

/**
 * A daemon's extra arguments; `netns`: it runs in that network namespace and reaches the cluster
 * only through its veth (the NETNS listener).
 */
export type DaemonSpec = readonly string[] | { args: readonly string[]; netns: NetNamespace }

const specArgs = (spec: DaemonSpec | undefined): readonly string[] =>
  spec === undefined ? [] : 'netns' in spec ? spec.args : (spec as readonly string[])
const instanceOf = (spec: DaemonSpec | undefined): string | undefined => {
  const args = specArgs(spec)
  const at = args.indexOf('--group-instance-id')
  return at >= 0 ? args[at + 1] : undefined
}

export interface FaultFigures {
  scenario: string
  /** Input records in the topic (a retried send can write one twice). */
  inputs: number
  /** Distinct input values: each must have an output. */
  distinctInputs: number
  /**
   * Values the test's plain kafkajs producer saw acknowledged that are not in the input topic:
   * kafkajs's send() can resolve without writing a partition whose leader moved (see docs/design.md).
   */
  acknowledgedInputsMissing: number
  outputs: number
  /** Output values that match no input. */
  unexpectedOutputs: number
  lost: number
  duplicates: number
  committedAheadOfOutput: number
  commitsAtEnd: boolean
  commitSamples: number
  sliceFailures: number
  /** Group assignment: assignments that ended (rebalances seen by the daemons, summed). */
  assignmentsEnded?: number
  /** Group assignment: from a daemon's kill (or network cut) to the first new assignment of another daemon. */
  takeoverMs?: number
  seconds: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Writes `perTick` messages every 50 ms until stopped; a failed send is retried until acked. */
function liveProducer(ctx: FaultContext, perTick: number) {
  const producer = ctx.cluster.kafka.producer({ allowAutoTopicCreation: false })
  let stopped = false
  let seq = 0
  let errors = 0
  const done = (async () => {
    await producer.connect()
    while (!stopped) {
      const messages = Array.from({ length: perTick }, () => {
        const i = seq++
        return { key: `k${i}`, value: `v${i}`, partition: i % ctx.partitions }
      })
      for (;;) {
        try {
          await producer.send({ topic: ctx.input, acks: -1, messages })
          break
        } catch {
          errors++
          await sleep(200)
        }
      }
      await sleep(50)
    }
    await producer.disconnect()
  })()
  return {
    stop: async () => {
      stopped = true
      await done
      return { sent: seq, errors }
    },
  }
}

function daemon(
  ctx: Pick<FaultContext, 'cluster' | 'input' | 'output' | 'partitions'>,
  name: string,
  logFile: string,
  spec: DaemonSpec,
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; exit: Promise<number | null> } {
  const out = openSync(logFile, 'a')
  const netns = 'netns' in spec ? spec.netns : undefined
  const argv = [
    CLI,
    'run',
    ECHO_JOB,
    '--workers',
    '2',
    '--metrics-port',
    '0',
    '--max-restarts',
    '20',
    ...specArgs(spec),
  ]
  // `ip netns exec` execs the program: the child is the daemon itself (signals reach it)
  const { command, args } = netns ? netns.exec(process.execPath, argv) : { command: process.execPath, args: argv }
  const child = spawn(command, args, {
    env: {
      ...process.env,
      KASPER_TEST_BROKERS: netns ? ctx.cluster.settings.netnsBootstrap : ctx.cluster.brokers.join(','),
      KASPER_TEST_NAME: name,
      KASPER_TEST_INPUT: ctx.input,
      KASPER_TEST_OUTPUT: ctx.output,
      KASPER_TEST_PARTITIONS: String(ctx.partitions),
      KASPER_TEST_MODE: 'echo',
      KASPER_TEST_BATCH_SIZE: '500',
      KASPER_TEST_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', out, out],
  })
  return { child, exit: new Promise((r) => child.once('exit', (code) => r(code))) }
}

export async function runFaultScenario(
  cluster: TestCluster,
  scenario: string,
  faults: (ctx: FaultContext) => Promise<void>,
  {
    partitions = 6,
    perTick = 50,
    /** Each daemon's extra arguments: one daemon by default; several with --assignment group. */
    daemons = [[]] as readonly DaemonSpec[],
    /** The job runs with guarantee 'exactly-once' (the output is transactional). */
    exactlyOnce = false,
  } = {},
): Promise<FaultFigures> {
  const started = Date.now()
  const names = jobNames()
  const logFile = join(mkdtempSync(join(tmpdir(), 'kasper-faults-')), 'daemon.log')
  const base = {
    cluster,
    group: `kasper-topic-processor-${names.name}`,
    input: names.input,
    output: names.output,
    partitions,
    log: (line: string) =>
      process.stderr.write(`[${scenario} +${Math.round((Date.now() - started) / 1000)}s] ${line}\n`),
  }
  await cluster.createTopics([names.input, names.output], partitions)
  const extraEnv: Record<string, string> = exactlyOnce ? { KASPER_TEST_GUARANTEE: 'exactly-once' } : {}
  const runs = daemons.map((args) => daemon(base, names.name, logFile, args, extraEnv))
  const mark = (msg: string, fields: Record<string, unknown> = {}) => {
    const time = Date.now()
    appendFileSync(logFile, `${JSON.stringify({ time, msg, ...fields })}\n`)
    return time
  }
  const stopDaemon = async (index: number, signal: NodeJS.Signals) => {
    const run = runs[index] as (typeof runs)[number]
    if (run.child.exitCode !== null || run.child.signalCode !== null) return
    run.child.kill(signal)
    await run.exit
    // a marker in the daemons' log, so the takeover time can be read from it
    mark(`test: daemon ${index} ended by ${signal}`, { instance: instanceOf(daemons[index]) })
  }
  const startDaemon = (index: number) => {
    runs[index] = daemon(base, names.name, logFile, daemons[index] ?? [], extraEnv)
  }
  const ctx: FaultContext = {
    ...base,
    daemons: daemons.length,
    stopDaemon,
    startDaemon,
    mark,
    waitForLine: async (match, timeoutMs, what) => {
      let found: LogLine | undefined
      await waitUntil(
        () => {
          const all = logLines(readFileSync(logFile, 'utf8'))
          found = all.find((line) => match(line, all))
          return found !== undefined
        },
        timeoutMs,
        what,
      ).catch((error: Error) => {
        // what the daemons did meanwhile: CI keeps no log files
        throw new Error(`${error.message}; the daemons' log ended with:\n${logTail(readFileSync(logFile, 'utf8'))}`)
      })
      return found as LogLine
    },
    killDaemon: async (index) => {
      await stopDaemon(index, 'SIGKILL')
      startDaemon(index)
    },
  }
  const { group } = base
  const producer = liveProducer(ctx, perTick)

  let sentCount = 0
  const samples: Map<number, number>[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      try {
        const admin = await cluster.admin()
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [names.input] })
        samples.push(new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)])))
      } catch {
        // the coordinator may be restarting: sample again
      }
      await sleep(500)
    }
  })()

  try {
    // faults hit a job that is running and committing
    await waitUntil(() => samples.some((s) => [...s.values()].some((o) => o > 0)), 60_000, 'the job never committed')
    ctx.log('job committing; injecting faults')
    await faults(ctx)
    ctx.log('faults done; stopping the input')
    const { sent, errors } = await producer.stop()
    sentCount = sent
    ctx.log(`input stopped after ${sent} messages (${errors} producer retries)`)
    const admin = await cluster.admin()
    const ends = new Map((await topicOffsets(admin, names.input)).map((p) => [p.partition, Number(p.high)]))
    const caughtUp = await waitUntil(
      () => {
        const last = samples[samples.length - 1]
        return last !== undefined && [...ends].every(([p, end]) => (last.get(p) ?? -1) === end)
      },
      180_000,
      'commits did not reach the end offsets',
    ).then(
      () => true,
      () => false,
    )
    sampling = false
    await sampler
    for (const run of runs) run.child.kill('SIGTERM')
    await Promise.all(runs.map((run) => run.exit))

    const inputs = await cluster.readAll(names.input)
    const outputs = await cluster.readAll(names.output, { transactional: exactlyOnce })
    const seen = new Set(outputs.map((r) => r.value))
    const inputValues = new Set(inputs.map((r) => r.value))
    const lost = [...inputValues].filter((v) => !seen.has(v)).length
    let acknowledgedInputsMissing = 0
    for (let i = 0; i < sentCount; i++) if (!inputValues.has(`v${i}`)) acknowledgedInputsMissing++
    let committedAheadOfOutput = 0
    const highest = new Map<number, number>()
    for (const s of samples) for (const [p, o] of s) highest.set(p, Math.max(highest.get(p) ?? 0, o))
    for (const r of inputs)
      if (r.offset < (highest.get(r.partition) ?? 0) && !seen.has(r.value)) committedAheadOfOutput++
    const log = readFileSync(logFile, 'utf8')
    return {
      scenario,
      inputs: inputs.length,
      distinctInputs: inputValues.size,
      acknowledgedInputsMissing,
      outputs: outputs.length,
      unexpectedOutputs: [...seen].filter((v) => !inputValues.has(v)).length,
      lost,
      duplicates: outputs.length - seen.size,
      committedAheadOfOutput,
      commitsAtEnd: caughtUp,
      commitSamples: samples.length,
      sliceFailures: (log.match(/"slice \d+ failed/g) ?? []).length,
      ...groupFigures(log),
      seconds: Math.round((Date.now() - started) / 1000),
    }
  } finally {
    sampling = false
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL')
    await producer.stop().catch(() => {})
  }
}

/** The last info-or-above lines of the daemons' log, each cut short. */
function logTail(log: string, lines = 40): string {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{') && !l.includes('"level":"debug"'))
    .slice(-lines)
    .map((l) => l.slice(0, 400))
    .join('\n')
}

function logLines(log: string): LogLine[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
}

/**
 * Rebalances, and the takeover after the first daemon killed (or cut off): the first assignment
 * after it in which another daemon (another group.instance.id) was given a partition the victim
 * held, not the victim's own return nor a rebalance that was under way at the kill.
 */
function groupFigures(log: string): Pick<FaultFigures, 'assignmentsEnded' | 'takeoverMs'> {
  const lines = logLines(log)
  const ended = lines.filter((l) => l.msg.startsWith('assignment ended')).length
  if (!lines.some((l) => l.msg.startsWith('assignment received'))) return {}
  const victim = lines.find((l) => /^test: (daemon \d+ ended by SIGKILL|network of daemon \d+ cut)/.test(l.msg))
  // what the victim held: the last assignment before the fault of its instance id, or, for a daemon
  // without one, of the member that never logged again
  const last = new Map<string | undefined, LogLine>()
  for (const l of lines) {
    if (victim && l.time <= victim.time && l.msg.startsWith('assignment received')) last.set(l.memberId, l)
  }
  const silent = (member: string | undefined) =>
    !lines.some((l) => victim && l.time > victim.time && l.memberId === member)
  const held = [...last.values()]
    .filter((l) => (victim?.instance !== undefined ? l.groupInstanceId === victim.instance : silent(l.memberId)))
    .flatMap((l) => l.partitions ?? [])
  const next =
    victim &&
    lines.find(
      (l) =>
        l.time > victim.time &&
        l.msg.startsWith('assignment received') &&
        (victim.instance === undefined || l.groupInstanceId !== victim.instance) &&
        (held.length === 0 || (l.added ?? []).some((p) => held.includes(p))),
    )
  return { assignmentsEnded: ended, ...(victim && next ? { takeoverMs: next.time - victim.time } : {}) }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`)
    await sleep(250)
  }
}

/** A node that leads a partition of `topic` and one of `other`, if one does; else the leader of `topic`[0]. */
export async function leaderOfBoth(ctx: FaultContext): Promise<number> {
  for (let p = 0; p < ctx.partitions; p++) {
    const a = await ctx.cluster.leaderOf(ctx.input, p)
    for (let q = 0; q < ctx.partitions; q++) if ((await ctx.cluster.leaderOf(ctx.output, q)) === a) return a
  }
  return ctx.cluster.leaderOf(ctx.input, 0)
}

/** Stops each node in turn (SIGTERM), starts it again, and waits for its replicas to catch up. */
export async function rollingRestart(ctx: FaultContext): Promise<void> {
  for (const node of [1, 2, 3]) {
    ctx.log(`rolling restart: stopping node ${node}`)
    await ctx.cluster.stop(node, 'SIGTERM')
    await sleep(2000)
    await ctx.cluster.startNode(node)
    await ctx.cluster.waitInSync([ctx.input, ctx.output])
    ctx.log(`rolling restart: node ${node} back in sync`)
  }
}
