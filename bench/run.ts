/**
 * npm run bench [-- --messages N --partitions P --only mode[:workload],... --soak-seconds S]
 *   e.g. --only topic-processor:pass-through,raw-kafkajs:pass-through,latency
 *
 * In one run, on the local broker: loads N messages (100-byte values) with Kafka's own producer
 * perf tool, measures Kafka's own consumer perf tool, then each mode end to end (start to the
 * last offset committed), the latency at half the measured rate, and peak RSS per mode. Prints
 * ratios measured side by side and writes bench/results/latest.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import { silentLogger } from '../src/index.js'
import { Supervisor } from '../supervisor/index.js'
import { measureLatency } from './latency.js'
import { committedSum, createBenchTopic, loadArgs, round, rssSampler } from './measure.js'
import { runRawKafkajs } from './modes/raw-kafkajs.js'
import { runTopicProcessor } from './modes/topic-processor.js'
import { type WorkloadName, workload } from './workloads.js'

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: process.env.BENCH_MESSAGES ?? '1000000' },
    partitions: { type: 'string', default: '12' },
    'batch-size': { type: 'string', default: '10000' },
    only: { type: 'string' },
    'latency-seconds': { type: 'string', default: '20' },
    'soak-seconds': { type: 'string', default: '0' },
  },
})
// The scripts live outside the compiled tree: load them from the project root (npm runs us there).
const scripts = (name: string) => pathToFileURL(resolve('scripts/lib', name)).href
const { brokerSettings, startBroker, toolOutput } = (await import(
  scripts('broker.mjs')
)) as typeof import('../scripts/lib/broker.mjs')
const { startRedis } = (await import(scripts('redis.mjs'))) as typeof import('../scripts/lib/redis.mjs')

const N = Number(args.messages)
const PARTITIONS = Number(args.partitions)
const BATCH = Number(args['batch-size'])
const partitions = Array.from({ length: PARTITIONS }, (_, i) => i)
const runId = Date.now().toString(36)
const say = (line: string) => process.stdout.write(`${line}\n`)

interface ModeResult {
  mode: string
  workload: WorkloadName
  messages: number
  seconds: number
  perSecond: number
  peakRssMiB: number
  /** CPU seconds used meanwhile by this process (all threads) and by the local broker's JVM. */
  cpuSeconds: { node: number; broker: number | null }
}

/** CPU seconds (user + system) of a process, from /proc (Linux); null where unavailable. */
function processCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(brokerSettings().pidFile, 'utf8').trim()) || undefined
  } catch {
    return undefined
  }
}

const createTopic = (kafka: Kafka, topic: string) => createBenchTopic(kafka, topic, PARTITIONS)

function kafkaTool(name: string, toolArgs: string[]): string {
  const result = toolOutput(name, toolArgs)
  if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`)
  return result.stdout
}

async function timed(
  mode: string,
  work: WorkloadName,
  kafka: Kafka,
  group: string,
  input: string,
  run: (done: () => Promise<boolean>) => Promise<void>,
) {
  const rss = rssSampler()
  const pid = brokerPid()
  const brokerCpu0 = pid ? processCpuSeconds(pid) : null
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  let finishedAt = 0
  await run(async () => {
    if (finishedAt) return true
    if ((await committedSum(kafka, group, input)) >= N) finishedAt = performance.now()
    return finishedAt > 0
  })
  const seconds = (finishedAt - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  const brokerCpu1 = pid ? processCpuSeconds(pid) : null
  const result: ModeResult = {
    mode,
    workload: work,
    messages: N,
    seconds: round(seconds),
    perSecond: Math.round(N / seconds),
    peakRssMiB: rss.stop(),
    cpuSeconds: {
      node: round((cpu.user + cpu.system) / 1e6),
      broker: brokerCpu0 !== null && brokerCpu1 !== null ? round(brokerCpu1 - brokerCpu0) : null,
    },
  }
  say(
    `  ${mode.padEnd(28)} ${work.padEnd(13)} ${String(result.perSecond).padStart(8)} msg/s  ${String(result.seconds).padStart(7)} s  ` +
      `peak RSS ${result.peakRssMiB} MiB  CPU s: node ${result.cpuSeconds.node}, broker ${result.cpuSeconds.broker ?? 'n/a'}`,
  )
  return result
}

async function main() {
  const bootstrap = process.env.KAFKA_BROKERS ?? (await startBroker({ log: say })).bootstrap
  const redisUrl = (await startRedis({ log: say })).url
  process.env.KAFKA_BROKERS = bootstrap
  process.env.REDIS_URL = redisUrl
  const kafka = new Kafka({ brokers: bootstrap.split(','), clientId: 'bench', logLevel: logLevel.NOTHING })
  const redis = new Redis(redisUrl)
  const input = `bench-in-${runId}`
  await createTopic(kafka, input)
  const only = args.only?.split(',')
  const want = (mode: string) => !only || only.some((o) => mode.startsWith(o))

  say(
    `kasper-ts benchmark: ${N} messages of 100 bytes, ${PARTITIONS} partitions, batchSize ${BATCH}, ${brokerSettings().bootstrap}`,
  )
  const producerOut = kafkaTool('kafka-producer-perf-test', loadArgs(input, N, bootstrap))
  const producerPerSecond = Number(/([\d.]+) records\/sec/.exec(producerOut.trim().split('\n').at(-1) ?? '')?.[1])
  say(`  kafka-producer-perf-test (load, acks=-1)          ${Math.round(producerPerSecond)} msg/s`)
  const consumerOut = kafkaTool('kafka-consumer-perf-test', [
    '--topic',
    input,
    '--messages',
    String(N),
    '--timeout',
    '60000',
  ])
  const consumerRow =
    consumerOut
      .trim()
      .split('\n')
      .at(-1)
      ?.split(',')
      .map((c) => c.trim()) ?? []
  const consumerPerSecond = Number(consumerRow[5])
  say(`  kafka-consumer-perf-test (read ceiling)          ${Math.round(consumerPerSecond)} msg/s`)

  const results: ModeResult[] = []
  const runMode = async (mode: string, work: WorkloadName) => {
    if (!want(`${mode}:${work}`)) return
    const output = `bench-out-${runId}-${mode}-${work}`
    await createTopic(kafka, output)
    const name = `bench-${runId}-${mode}-${work}`
    if (mode === 'raw-kafkajs') {
      const w = workload(work, redis, `bench/${name}`)
      results.push(
        await timed(mode, work, kafka, name, input, (done) =>
          runRawKafkajs({ kafka, groupId: name, input, output, work: w, done }),
        ),
      )
    } else if (mode === 'topic-processor') {
      const w = workload(work, redis, `bench/${name}`)
      const group = `kasper-topic-processor-${name}`
      results.push(
        await timed(mode, work, kafka, group, input, (done) =>
          runTopicProcessor({ kafka, name, input, output, partitions, batchSize: BATCH, work: w, done }),
        ),
      )
    } else {
      const workers = Number(mode.split('-')[1])
      Object.assign(process.env, {
        BENCH_WORKLOAD: work,
        BENCH_NAME: name,
        BENCH_INPUT: input,
        BENCH_OUTPUT: output,
        BENCH_PARTITIONS: String(PARTITIONS),
        BENCH_BATCH_SIZE: String(BATCH),
      })
      const supervisor = new Supervisor({
        jobPath: resolve('dist/bench/jobs/bench-job.js'),
        workers,
        metricsPort: null,
        logger: silentLogger,
      })
      const group = `kasper-topic-processor-${name}`
      results.push(
        await timed(`supervisor-${workers}w`, work, kafka, group, input, async (done) => {
          await supervisor.start()
          while (!(await done())) await new Promise((r) => setTimeout(r, 200))
          await supervisor.stop()
        }),
      )
    }
  }

  say('modes (end to end: start to last offset committed):')
  for (const work of ['pass-through', 'redis'] as const) {
    await runMode('raw-kafkajs', work)
    await runMode('topic-processor', work)
  }
  await runMode('topic-processor', 'cpu')
  await runMode('supervisor-1', 'cpu')
  await runMode('supervisor-2', 'cpu')

  const find = (mode: string, work: string) => results.find((r) => r.mode === mode && r.workload === work)
  const ratio = (a?: ModeResult, b?: ModeResult) => (a && b ? round(a.perSecond / b.perSecond) : null)
  const ratios = {
    topicProcessorOverRawPassThrough: ratio(
      find('topic-processor', 'pass-through'),
      find('raw-kafkajs', 'pass-through'),
    ),
    topicProcessorOverRawRedis: ratio(find('topic-processor', 'redis'), find('raw-kafkajs', 'redis')),
    twoWorkersOverOneCpu: ratio(find('supervisor-2w', 'cpu'), find('supervisor-1w', 'cpu')),
    topicProcessorPassThroughOverKafkaConsumerTool: round(
      (find('topic-processor', 'pass-through')?.perSecond ?? 0) / consumerPerSecond,
    ),
    topicProcessorPassThroughOverKafkaProducerTool: round(
      (find('topic-processor', 'pass-through')?.perSecond ?? 0) / producerPerSecond,
    ),
  }
  say('ratios (same run):')
  for (const [k, v] of Object.entries(ratios)) say(`  ${k.padEnd(48)} ${v}`)

  const latency: Awaited<ReturnType<typeof measureLatency>>[] = []
  const tpMax = find('topic-processor', 'pass-through')?.perSecond
  if (want('latency') && tpMax) {
    const rate = Math.round(tpMax / 2)
    // the throughput configuration, and one whose batches fill well within batchWaitMs
    for (const batchSize of [BATCH, 1000]) {
      const seconds = Number(args['latency-seconds'])
      const l = await measureLatency({
        kafka,
        runId: `${runId}-${batchSize}`,
        partitions,
        rate,
        seconds,
        batchSize,
        batchWaitMs: 1000,
      })
      latency.push(l)
      say(
        `latency at ${rate} msg/s offered (${l.offeredPerSecond} sent), batchSize ${batchSize}, batchWaitMs 1000: ` +
          `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms over ${l.samples} messages`,
      )
    }
  }

  let soak: Awaited<ReturnType<typeof measureLatency>> | undefined
  const soakSeconds = Number(args['soak-seconds'])
  if (soakSeconds > 0 && tpMax) {
    soak = await measureLatency({
      kafka,
      runId: `${runId}-soak`,
      partitions,
      rate: Math.round(tpMax / 4),
      seconds: soakSeconds,
      batchSize: BATCH,
      batchWaitMs: 1000,
      rssEveryMs: 10_000,
    })
    say(`soak ${soakSeconds} s at ${Math.round(tpMax / 4)} msg/s: RSS MiB ${JSON.stringify(soak.rssMiB)}`)
  }

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    messages: N,
    partitions: PARTITIONS,
    batchSize: BATCH,
    valueBytes: 100,
    kafkaTools: { producerPerSecond: Math.round(producerPerSecond), consumerPerSecond: Math.round(consumerPerSecond) },
    modes: results,
    ratios,
    latency,
    soak,
  }
  mkdirSync('bench/results', { recursive: true })
  // only a full run replaces latest.json; partial and soak runs keep their own files
  const latest =
    soakSeconds > 0
      ? 'bench/results/soak-latest.json'
      : only
        ? 'bench/results/partial-latest.json'
        : 'bench/results/latest.json'
  writeFileSync(latest, `${JSON.stringify(report, null, 2)}\n`)
  if (!only && soakSeconds === 0)
    writeFileSync(`bench/results/${report.date.slice(0, 10)}-${runId}.json`, `${JSON.stringify(report, null, 2)}\n`)
  say(`written to ${latest}`)
  redis.disconnect()
  const admin = kafka.admin()
  await admin.connect()
  const ours = (await admin.listTopics()).filter((t) => t.includes(runId))
  await admin.deleteTopics({ topics: ours })
  await admin.disconnect()
}

await main()
