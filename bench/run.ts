/**
 * npm run bench [-- --messages N --partitions P --only mode[:workload],... --soak-seconds S]
 *   e.g. --only topic-processor:pass-through,raw-kafkajs:pass-through,latency
 *
 * In one run, on the local broker: loads N messages (100-byte values) with Kafka's own producer
 * perf tool, measures Kafka's own consumer perf tool, then each mode end to end (start to the
 * last offset committed), the latency at half the maximum rate (per batch size), and peak RSS per mode. Prints
 * ratios measured side by side and writes bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { measureLatency } from './latency.js'
import { committedSum, createBenchTopic, loadArgs, round } from './measure.js'
import type { ModeResult } from './mode.js'
import { processCpuSeconds, runModeProcess } from './mode-process.js'
import { runKafkaStreams } from './modes/kafka-streams.js'
import { rerunUnder } from './node-binary.js'
import type { WorkloadName } from './workloads.js'

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: process.env.BENCH_MESSAGES ?? '1000000' },
    partitions: { type: 'string', default: '12' },
    'batch-size': { type: 'string', default: '10000' },
    only: { type: 'string' },
    'latency-seconds': { type: 'string', default: '20' },
    // offered rate of the latency runs; default half the TopicProcessor's maximum at each run's batch size
    'latency-rate': { type: 'string' },
    'soak-seconds': { type: 'string', default: '0' },
    node: { type: 'string' },
  },
})
// --node 24 (or a path to a node binary): the whole run under that Node (installed on first use)
if (args.node) rerunUnder(args.node, fileURLToPath(import.meta.url))
// The scripts live outside the compiled tree: load them from the project root (npm runs us there).
const scripts = (name: string) => pathToFileURL(resolve('scripts/lib', name)).href
const { brokerSettings, startBroker, toolOutput } = (await import(
  scripts('broker.mjs')
)) as typeof import('../scripts/lib/broker.mjs')
const { startRedis } = (await import(scripts('redis.mjs'))) as typeof import('../scripts/lib/redis.mjs')
const { startOpenSearch, stopOpenSearch } = (await import(
  scripts('opensearch.mjs')
)) as typeof import('../scripts/lib/opensearch.mjs')
const { startCassandra, stopCassandra } = (await import(
  scripts('cassandra.mjs')
)) as typeof import('../scripts/lib/cassandra.mjs')

const N = Number(args.messages)
const PARTITIONS = Number(args.partitions)
const BATCH = Number(args['batch-size'])
const partitions = Array.from({ length: PARTITIONS }, (_, i) => i)
const runId = Date.now().toString(36)
const say = (line: string) => process.stdout.write(`${line}\n`)

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

/** Runs `measure` and sets its result's broker CPU to what the local broker's JVM used meanwhile; prints the row. */
async function withBrokerCpu(measure: () => Promise<ModeResult>): Promise<ModeResult> {
  const pid = brokerPid()
  const before = pid ? processCpuSeconds(pid) : null
  const result = await measure()
  const after = pid ? processCpuSeconds(pid) : null
  result.cpuSeconds.broker = before !== null && after !== null ? round(after - before) : null
  printMode(result)
  return result
}

/** Kafka Streams' pass-through in its own JVM, reported like the other modes. */
async function kafkaStreamsMode(
  kafka: Kafka,
  bootstrap: string,
  appId: string,
  input: string,
  output: string,
): Promise<ModeResult> {
  const run = await runKafkaStreams({
    cacheRoot: dirname(dirname(brokerSettings().libsDir)),
    bootstrap,
    appId,
    input,
    output,
    done: async () => (await committedSum(kafka, appId, input)) >= N,
    log: say,
  })
  return {
    mode: 'kafka-streams',
    workload: 'pass-through',
    messages: N,
    seconds: round(run.seconds),
    perSecond: Math.round(N / run.seconds),
    cpuMicrosPerMessage: round((run.cpuSeconds * 1e6) / N),
    peakRssMiB: run.peakRssMiB,
    cpuSeconds: { node: round(run.cpuSeconds), broker: null },
    node: `java ${/version "([^"]+)"/.exec(spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr)?.[1] ?? '?'}`,
  }
}

function printMode(result: ModeResult) {
  say(
    `  ${result.mode.padEnd(28)} ${result.workload.padEnd(13)} ${String(result.perSecond).padStart(8)} msg/s  ${String(result.seconds).padStart(7)} s  ` +
      `${String(result.cpuMicrosPerMessage).padStart(6)} µs CPU/msg  peak RSS ${result.peakRssMiB} MiB  (broker CPU ${result.cpuSeconds.broker ?? 'n/a'} s)`,
  )
  if (result.settled) {
    const { perSecond, cpuMicrosPerMessage, afterSeconds } = result.settled
    say(
      `  ${''.padEnd(44)} settled ${String(perSecond).padStart(7)} msg/s  ${String(cpuMicrosPerMessage).padStart(6)} µs CPU/msg  (every daemon on its final share after ${afterSeconds} s)`,
    )
  }
}

async function main() {
  const bootstrap = process.env.KAFKA_BROKERS ?? (await startBroker({ log: say })).bootstrap
  const redisUrl = (await startRedis({ log: say })).url
  process.env.KAFKA_BROKERS = bootstrap
  process.env.REDIS_URL = redisUrl
  const kafka = new Kafka({ brokers: bootstrap.split(','), clientId: 'bench', logLevel: logLevel.NOTHING })
  const input = `bench-in-${runId}`
  await createTopic(kafka, input)
  const only = args.only?.split(',')
  const want = (mode: string) => !only || only.some((o) => mode.startsWith(o))

  say(
    `kasper-ts benchmark on Node ${process.version}: ${N} messages of 100 bytes, ${PARTITIONS} partitions, batchSize ${BATCH}, ${brokerSettings().bootstrap}`,
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
  const storeEndpoints: { openSearchUrl?: string; cassandraContactPoint?: string } = {}
  const runMode = async (mode: string, work: WorkloadName) => {
    if (!want(`${mode}:${work}`)) return
    const output = `bench-out-${runId}-${mode}-${work}`
    await createTopic(kafka, output)
    const name = `bench-${runId}-${mode}-${work}`
    if (mode === 'kafka-streams') {
      results.push(await withBrokerCpu(() => kafkaStreamsMode(kafka, bootstrap, name, input, output)))
      return
    }
    results.push(
      await withBrokerCpu(() =>
        runModeProcess({
          mode,
          workload: work,
          bootstrap,
          redisUrl,
          ...storeEndpoints,
          input,
          output,
          name,
          messages: N,
          partitions: PARTITIONS,
          batchSize: BATCH,
        }),
      ),
    )
  }

  say('modes (end to end: start to last offset committed):')
  await runMode('kafka-streams', 'pass-through')
  for (const work of ['pass-through', 'redis'] as const) {
    await runMode('raw-kafkajs', work)
    await runMode('topic-processor', work)
  }
  // guarantee 'exactly-once': a Kafka transaction per batch (docs/exactly-once.md)
  await runMode('topic-processor-eos', 'pass-through')
  // kasper-ts's other stores, with the redis workload's work: one getAll and one putAll per batch
  for (const store of ['elasticsearch', 'cassandra'] as const) {
    if (!want(`topic-processor:${store}`)) continue
    const servers = store === 'elasticsearch' ? await startOpenSearch({ log: say }) : undefined
    const cql = store === 'cassandra' ? await startCassandra({ log: say }) : undefined
    if (servers) storeEndpoints.openSearchUrl = servers.url
    if (cql) storeEndpoints.cassandraContactPoint = cql.contactPoint
    await runMode('topic-processor', store)
    if (servers?.started) await stopOpenSearch()
    if (cql?.started) await stopCassandra()
  }
  await runMode('supervisor-1', 'pass-through')
  await runMode('supervisor-2', 'pass-through')
  await runMode('static-2', 'pass-through')
  await runMode('group-2', 'pass-through')
  await runMode('topic-processor', 'cpu')
  await runMode('supervisor-1', 'cpu')
  await runMode('supervisor-2', 'cpu')

  const find = (mode: string, work: string) => results.find((r) => r.mode === mode && r.workload === work)
  const ratio = (a?: ModeResult, b?: ModeResult) => (a && b ? round(a.perSecond / b.perSecond) : null)
  const cpuRatio = (a?: ModeResult, b?: ModeResult) =>
    a && b ? round(a.cpuMicrosPerMessage / b.cpuMicrosPerMessage) : null
  const ratios = {
    topicProcessorOverRawPassThrough: ratio(
      find('topic-processor', 'pass-through'),
      find('raw-kafkajs', 'pass-through'),
    ),
    topicProcessorOverRawRedis: ratio(find('topic-processor', 'redis'), find('raw-kafkajs', 'redis')),
    topicProcessorOverKafkaStreamsPassThrough: ratio(
      find('topic-processor', 'pass-through'),
      find('kafka-streams', 'pass-through'),
    ),
    twoWorkersOverKafkaStreamsPassThrough: ratio(
      find('supervisor-2w', 'pass-through'),
      find('kafka-streams', 'pass-through'),
    ),
    twoWorkersOverOneCpu: ratio(find('supervisor-2w', 'cpu'), find('supervisor-1w', 'cpu')),
    exactlyOnceOverAtLeastOnce: ratio(
      find('topic-processor-eos', 'pass-through'),
      find('topic-processor', 'pass-through'),
    ),
    // group assignment's cost: two one-worker daemons in one consumer group against one two-worker daemon
    groupTwoDaemonsOverStaticTwoWorkers: ratio(
      find('group-2x1w', 'pass-through'),
      find('supervisor-2w', 'pass-through'),
    ),
    // the same deployment (two one-worker daemons), with and without the consumer group: the cost of group mode
    groupTwoDaemonsOverStaticTwoDaemons: ratio(find('group-2x1w', 'pass-through'), find('static-2x1w', 'pass-through')),
    // CPU per message, group over static (the settled rate is no comparison under cooperative
    // rebalancing: the daemon that held every partition first has less left once the other joins)
    groupTwoDaemonsCpuOverStaticTwoDaemons: cpuRatio(
      find('group-2x1w', 'pass-through'),
      find('static-2x1w', 'pass-through'),
    ),
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
  /** A TopicProcessor mode's pass-through maximum at another batch size (a row of its own). */
  const maximumAt = async (batchSize: number, mode = 'topic-processor'): Promise<ModeResult> => {
    const output = `bench-out-${runId}-${mode}-max-${batchSize}`
    await createTopic(kafka, output)
    const result = await withBrokerCpu(async () => ({
      ...(await runModeProcess({
        mode,
        workload: 'pass-through',
        bootstrap,
        redisUrl,
        input,
        output,
        name: `bench-${runId}-${mode}-max-${batchSize}`,
        messages: N,
        partitions: PARTITIONS,
        batchSize,
      })),
      mode: `${mode}-batch${batchSize}`,
    }))
    results.push(result)
    return result
  }
  if (want('latency') && tpMax) {
    // the throughput configuration, and one whose batches fill well within batchWaitMs; each is
    // offered half of its own maximum (a smaller batch costs more per message: half of the
    // batchSize-10,000 maximum would overload the batchSize-1,000 processor and measure its queue)
    for (const batchSize of new Set([BATCH, 1000])) {
      const max = batchSize === BATCH ? tpMax : (await maximumAt(batchSize)).perSecond
      const rate = args['latency-rate'] ? Number(args['latency-rate']) : Math.round(max / 2)
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
  if (want('latency-eos') && tpMax) {
    // batchSize 1,000 at half the exactly-once maximum at batchSize 1,000, output counted once its
    // transaction committed
    const eosMax =
      BATCH === 1000
        ? (find('topic-processor-eos', 'pass-through')?.perSecond ?? tpMax)
        : (await maximumAt(1000, 'topic-processor-eos')).perSecond
    const rate = args['latency-rate'] ? Number(args['latency-rate']) : Math.round(eosMax / 2)
    const l = await measureLatency({
      kafka,
      runId: `${runId}-eos`,
      partitions,
      rate,
      seconds: Number(args['latency-seconds']),
      batchSize: 1000,
      batchWaitMs: 1000,
      guarantee: 'exactly-once',
    })
    latency.push(l)
    say(
      `latency exactly-once at ${rate} msg/s offered (${l.offeredPerSecond} sent), batchSize 1000, batchWaitMs 1000: ` +
        `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms over ${l.samples} messages`,
    )
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
  const admin = kafka.admin()
  await admin.connect()
  const ours = (await admin.listTopics()).filter((t) => t.includes(runId))
  await admin.deleteTopics({ topics: ours })
  await admin.disconnect()
}

await main()
