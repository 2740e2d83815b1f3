/**
 * One benchmark mode in a process of its own (bench/run.ts starts one per mode), so that its peak
 * RSS and CPU are its own and not what earlier modes left in a shared process:
 *   node dist/bench/mode.js '<ModeSpec as JSON>'
 * Runs the mode from the start of the input until the group's committed offsets sum to
 * `messages`, then prints one line of JSON (a ModeResult) on stdout.
 */
import { openSync } from 'node:fs'
import { resolve } from 'node:path'
import { Client } from 'cassandra-driver'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import { CassandraStore, ElasticsearchStore, type KeyValueStore, silentLogger } from '../src/index.js'
import { jsonLogger } from '../src/logging/json-logger.js'
import { Supervisor } from '../supervisor/index.js'
import { committedSum, round, rssSampler } from './measure.js'
import { runRawKafkajs } from './modes/raw-kafkajs.js'
import { runTopicProcessor } from './modes/topic-processor.js'
import { type WorkloadName, workload } from './workloads.js'

export interface ModeSpec {
  /** raw-kafkajs | topic-processor | supervisor-<workers> | group-<daemons> | static-<daemons> (one worker each) */
  mode: string
  workload: WorkloadName
  bootstrap: string
  redisUrl: string
  /** Where the store workloads' servers answer (when one of them runs). */
  openSearchUrl?: string
  cassandraContactPoint?: string
  input: string
  output: string
  name: string
  messages: number
  partitions: number
  batchSize: number
}

export interface ModeResult {
  mode: string
  workload: WorkloadName
  messages: number
  seconds: number
  perSecond: number
  /** CPU time of the mode's process (all its threads) per message, in microseconds. */
  cpuMicrosPerMessage: number
  peakRssMiB: number
  /**
   * Daemon modes: from the moment every daemon runs its final share (for group-N: all in one
   * generation holding every partition, every slice started) to the last commit: what the deployment does once start-up
   * and the start-up rebalance are behind it.
   */
  settled?: { perSecond: number; cpuMicrosPerMessage: number; afterSeconds: number }
  /** CPU seconds used meanwhile by the mode's process and by the local broker's JVM. */
  cpuSeconds: { node: number; broker: number | null }
  node: string
}

/** The store of a store workload: an index, or a table, of this run's own. */
async function benchStore(spec: ModeSpec): Promise<KeyValueStore<Buffer> | undefined> {
  const name = spec.name.toLowerCase().replace(/[^a-z0-9]/g, '_')
  if (spec.workload === 'elasticsearch') {
    return new ElasticsearchStore({ node: spec.openSearchUrl ?? 'http://127.0.0.1:9200', index: name })
  }
  if (spec.workload === 'cassandra') {
    const client = new Client({
      contactPoints: [spec.cassandraContactPoint ?? '127.0.0.1:9042'],
      localDataCenter: 'datacenter1',
    })
    await client.connect()
    await client.execute(
      "CREATE KEYSPACE IF NOT EXISTS kasper_bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    return new CassandraStore({ client, keyspace: 'kasper_bench', table: name.slice(0, 48) })
  }
  return undefined
}

async function main(spec: ModeSpec): Promise<Omit<ModeResult, 'cpuSeconds'> & { cpuSeconds: { node: number } }> {
  const kafka = new Kafka({ brokers: spec.bootstrap.split(','), clientId: 'bench', logLevel: logLevel.NOTHING })
  const redis = new Redis(spec.redisUrl)
  const partitions = Array.from({ length: spec.partitions }, (_, i) => i)
  const work = workload(spec.workload, redis, `bench/${spec.name}`, await benchStore(spec))
  const group = spec.mode === 'raw-kafkajs' ? spec.name : `kasper-topic-processor-${spec.name}`
  const rss = rssSampler()
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  let finishedAt = 0
  const done = async () => {
    if (finishedAt) return true
    if ((await committedSum(kafka, group, spec.input)) >= spec.messages) finishedAt = performance.now()
    return finishedAt > 0
  }
  const { input, output, name, batchSize } = spec
  let settled: ModeResult['settled']
  if (spec.mode === 'raw-kafkajs') {
    await runRawKafkajs({ kafka, groupId: name, input, output, work, done })
  } else if (spec.mode === 'topic-processor' || spec.mode === 'topic-processor-eos') {
    const guarantee = spec.mode === 'topic-processor-eos' ? 'exactly-once' : 'at-least-once'
    await runTopicProcessor({ kafka, name, input, output, partitions, batchSize, work, done, guarantee })
  } else {
    Object.assign(process.env, {
      KAFKA_BROKERS: spec.bootstrap,
      REDIS_URL: spec.redisUrl,
      BENCH_WORKLOAD: spec.workload,
      BENCH_NAME: name,
      BENCH_INPUT: input,
      BENCH_OUTPUT: output,
      BENCH_PARTITIONS: String(spec.partitions),
      BENCH_BATCH_SIZE: String(batchSize),
    })
    // supervisor-<workers>: one daemon, static assignment; group-<daemons>: that many one-worker
    // daemons in this process, sharing the partitions through the job's consumer group;
    // static-<daemons>: that many one-worker daemons with static instance shares (--instance i/n),
    // the same deployment as group-<daemons> without the group
    const grouped = spec.mode.startsWith('group-')
    const instances = spec.mode.startsWith('static-')
    const count = Number(spec.mode.split('-')[1])
    const supervisors = Array.from(
      { length: grouped || instances ? count : 1 },
      (_, index) =>
        new Supervisor({
          jobPath: resolve('dist/bench/jobs/bench-job.js'),
          workers: grouped || instances ? 1 : count,
          metricsPort: null,
          // BENCH_LOG=<file>: the daemons' JSON log (assignments, slices) for a look at where time went
          logger: process.env.BENCH_LOG
            ? jsonLogger({ label: `daemon-${index}`, destination: openSync(process.env.BENCH_LOG, 'a') })
            : silentLogger,
          ...(grouped ? { assignment: 'group' as const } : {}),
          ...(instances ? { instance: { index, count } } : {}),
          ...(process.env.BENCH_WORKER_YOUNG_MB
            ? { workerMaxYoungGenerationMb: Number(process.env.BENCH_WORKER_YOUNG_MB) }
            : {}),
          ...(process.env.BENCH_WORKER_OLD_MB
            ? { workerMaxOldGenerationMb: Number(process.env.BENCH_WORKER_OLD_MB) }
            : {}),
        }),
    )
    await Promise.all(supervisors.map((s) => s.start()))
    const settledAfter = (async () => {
      for (;;) {
        const health = supervisors.map((s) => s.health())
        const generations = new Set(health.map((h) => h.generation))
        // group: one generation in which every partition is assigned (cooperative rebalancing hands
        // moving partitions over in a second generation)
        const assigned = health.reduce((sum, h) => sum + (h.assigned?.length ?? 0), 0)
        const complete = health.every((h) => h.assigned === undefined) || assigned === spec.partitions
        if (health.every((h) => h.ready) && generations.size === 1 && complete) break
        await new Promise((r) => setTimeout(r, 20))
      }
      return {
        at: performance.now(),
        cpu: process.cpuUsage(),
        committed: await committedSum(kafka, group, input),
      }
    })()
    while (!(await done())) await new Promise((r) => setTimeout(r, 200))
    const from = await settledAfter
    const cpuSettled = process.cpuUsage(from.cpu)
    const rest = spec.messages - from.committed
    settled = {
      perSecond: Math.round(rest / ((finishedAt - from.at) / 1000)),
      cpuMicrosPerMessage: round((cpuSettled.user + cpuSettled.system) / rest),
      afterSeconds: round((from.at - started) / 1000),
    }
    await Promise.all(supervisors.map((s) => s.stop()))
  }
  const seconds = (finishedAt - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  redis.disconnect()
  return {
    mode: spec.mode,
    workload: spec.workload,
    messages: spec.messages,
    seconds: round(seconds),
    perSecond: Math.round(spec.messages / seconds),
    cpuMicrosPerMessage: round((cpuSeconds * 1e6) / spec.messages),
    peakRssMiB: rss.stop(),
    ...(settled ? { settled } : {}),
    cpuSeconds: { node: round(cpuSeconds) },
    node: process.version,
  }
}

const result = await main(JSON.parse(process.argv[2] ?? '{}') as ModeSpec)
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
