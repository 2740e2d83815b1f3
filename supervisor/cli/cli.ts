/**
 * kasper run <job module> [options]: the daemon (main.ts is the entry; it catches signals first).
 * Exit codes: 0 clean stop, 1 halted by a failure, 2 bad usage or config (or an error no restart
 * can fix), 3 stopped past the shutdown deadline (threads terminated).
 */
import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { KasperError } from '../../src/errors.js'
import { createMissingTopics } from '../../src/kafka/create-topics.js'
import { describeMembers, describeOffsets } from '../../src/kafka/describe.js'
import { jsonLogger } from '../../src/logging/json-logger.js'
import type { LogLevel } from '../../src/logging/logger.js'
import { consumerGroupId } from '../../src/processor/options.js'
import { parseInstanceIndex, parsePartitionList } from '../slicing.js'
import { ExitCodes, Supervisor } from '../supervisor.js'
import { type ReplayCommandOptions, replayCommand } from './dead-letters.js'
import { jobFor } from './job-for.js'
import { type ResetCommandOptions, resetCommand } from './offsets-reset.js'
import { formatTable } from './table.js'

const integer = (name: string, min: number) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${value}"`)
  return n
}
const instanceIndex = (value: string) => {
  try {
    return parseInstanceIndex(value)
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message)
  }
}
const partitions = (value: string) => {
  try {
    return parsePartitionList(value)
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message)
  }
}

/** The installed package's version (package.json sits three levels above dist/supervisor/cli/). */
function packageVersion(): string {
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'kasper-ts' && pkg.version) return pkg.version
    } catch {
      // not at this level: try the next
    }
  }
  return 'unknown'
}

/** Signals caught by the entry before the supervisor exists; `onSignal` takes over once it does. */
export interface SignalLatch {
  received?: NodeJS.Signals
  onSignal?: (signal: NodeJS.Signals) => void
}

export function buildCli(latch: SignalLatch = {}): Command {
  const program = new Command('kasper')
    .version(packageVersion(), '-V, --version', 'print the kasper-ts version')
    .description('Run kasper-ts jobs: partition slices on worker threads, with metrics, health and failure policies.')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
  program
    .command('run')
    .description('run a job module (compiled JavaScript exporting defineJob(...)) until SIGTERM/SIGINT')
    .argument('<job>', 'path of the job module')
    .addOption(
      new Option('-w, --workers <n>', 'worker threads, one slice each')
        .env('KASPER_WORKERS')
        .argParser(integer('--workers', 1))
        .default(1),
    )
    .addOption(
      new Option('-p, --partitions <list>', "this daemon's partitions, e.g. 0-5,8 (default: the job's)")
        .env('KASPER_PARTITIONS')
        .argParser(partitions),
    )
    .addOption(
      new Option(
        '--instance <n>',
        "this daemon's number among --instances (0-based; or a name ending in -N, e.g. a StatefulSet pod's)",
      )
        .env('KASPER_INSTANCE')
        .argParser(instanceIndex),
    )
    .addOption(
      new Option('--instances <m>', "daemons running the job: each takes 1/m of the job's partitions")
        .env('KASPER_INSTANCES')
        .argParser(integer('--instances', 1)),
    )
    .addOption(
      new Option(
        '--assignment <mode>',
        "static: this daemon reads the partitions it is given; group: Kafka's coordinator assigns them (default: the job's)",
      )
        .env('KASPER_ASSIGNMENT')
        .choices(['static', 'group']),
    )
    .addOption(
      new Option(
        '--group-instance-id <id>',
        'group assignment: static membership id, stable across restarts (a pod name)',
      ).env('KASPER_GROUP_INSTANCE_ID'),
    )
    .addOption(
      new Option('--session-timeout-ms <ms>', 'group assignment: a member silent this long leaves the group')
        .env('KASPER_SESSION_TIMEOUT_MS')
        .argParser(integer('--session-timeout-ms', 6000))
        .default(30_000),
    )
    .addOption(
      new Option('--heartbeat-interval-ms <ms>', 'group assignment: how often a member heartbeats')
        .env('KASPER_HEARTBEAT_INTERVAL_MS')
        .argParser(integer('--heartbeat-interval-ms', 100))
        .default(1000),
    )
    .addOption(
      new Option('--on-failure <policy>', 'restart the failed slice, or halt the job')
        .env('KASPER_ON_FAILURE')
        .choices(['restart', 'halt'])
        .default('restart'),
    )
    .addOption(
      new Option('--max-restarts <n>', 'restarts per slice within the window before halting')
        .env('KASPER_MAX_RESTARTS')
        .argParser(integer('--max-restarts', 0))
        .default(5),
    )
    .addOption(
      new Option('--restart-window-ms <ms>', 'window for --max-restarts')
        .env('KASPER_RESTART_WINDOW_MS')
        .argParser(integer('--restart-window-ms', 1))
        .default(300_000),
    )
    .addOption(
      new Option('--metrics-host <host>', 'metrics and health server address')
        .env('KASPER_METRICS_HOST')
        .default('127.0.0.1'),
    )
    .addOption(
      new Option('--metrics-port <port>', 'metrics and health server port (0: any free port)')
        .env('KASPER_METRICS_PORT')
        .argParser(integer('--metrics-port', 0))
        .default(9464),
    )
    .addOption(new Option('--no-metrics', 'do not serve metrics and health'))
    .addOption(
      new Option('--shutdown-timeout-ms <ms>', 'graceful stop deadline; then threads are terminated')
        .env('KASPER_SHUTDOWN_TIMEOUT_MS')
        .argParser(integer('--shutdown-timeout-ms', 1))
        .default(30_000),
    )
    .addOption(
      new Option(
        '--stall-timeout-ms <ms>',
        'a slice with input waiting and no batch completed for this long is stalled: restarted by policy',
      )
        .env('KASPER_STALL_TIMEOUT_MS')
        .argParser(integer('--stall-timeout-ms', 1))
        .default(600_000),
    )
    .addOption(
      new Option('--worker-max-old-generation-mb <mb>', 'heap limit per worker thread')
        .env('KASPER_WORKER_MAX_OLD_GENERATION_MB')
        .argParser(integer('--worker-max-old-generation-mb', 16)),
    )
    .addOption(
      new Option('--worker-max-young-generation-mb <mb>', 'young generation per worker thread')
        .env('KASPER_WORKER_MAX_YOUNG_GENERATION_MB')
        .argParser(integer('--worker-max-young-generation-mb', 3))
        .default(48),
    )
    .addOption(
      new Option('--log-level <level>', 'supervisor log level')
        .env('KASPER_LOG_LEVEL')
        .choices(['debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    )
    .action(async (job: string, opts: Record<string, unknown>) => {
      process.exitCode = await run(job, opts, latch)
    })
  program
    .command('describe')
    .description(
      "a job's input partitions in Kafka: committed offset, end offset, lag and the instance that last committed",
    )
    .argument('<job>', 'path of the job module')
    .addOption(
      new Option('-p, --partitions <list>', "only these partitions (default: the job's)")
        .env('KASPER_PARTITIONS')
        .argParser(partitions),
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (job: string, opts: { partitions?: number[]; json?: boolean }) => {
      process.exitCode = await describe(job, opts)
    })
  program
    .command('offsets')
    .description("manage a job's committed input offsets")
    .command('reset')
    .description(
      "move the job's committed offsets (refused while an instance of the job is committing; stop the job first)",
    )
    .argument('<job>', 'path of the job module')
    .requiredOption('--to <where>', 'earliest, latest, an ISO-8601 time with a zone, or an offset')
    .addOption(
      new Option('-p, --partitions <list>', "only these partitions (default: the job's)")
        .env('KASPER_PARTITIONS')
        .argParser(partitions),
    )
    .option('--dry-run', 'print what would be committed, commit nothing')
    .addOption(
      new Option('--watch-ms <ms>', 'how long the committed offsets must stay still before the reset commits')
        .argParser(integer('--watch-ms', 0))
        .default(5000),
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (job: string, opts: ResetCommandOptions) => {
      process.exitCode = await resetCommand(job, opts)
    })
  program
    .command('dead-letters')
    .description("manage a job's dead letters (onProcessError 'dead-letter')")
    .command('replay')
    .description('produce the dead letters again, to where they came from (or --to a topic); committed, so each once')
    .argument('<job>', 'path of the job module')
    .option('--to <topic>', 'produce every dead letter to this topic (key partitioning) instead of its source')
    .option('--dry-run', 'count what would be replayed, produce and commit nothing')
    .option('--json', 'print JSON instead of a table')
    .action(async (job: string, opts: ReplayCommandOptions) => {
      process.exitCode = await replayCommand(job, opts)
    })
  program
    .command('topics')
    .description("manage a job's topics")
    .command('create')
    .description("create the job's input topics that do not exist (kasper-ts never creates topics on its own)")
    .argument('<job>', 'path of the job module')
    .addOption(
      new Option(
        '--partition-count <n>',
        'partitions of each new topic (default: one more than the highest the job reads)',
      ).argParser(integer('--partition-count', 1)),
    )
    .addOption(
      new Option('--replication-factor <n>', 'replicas of each new topic')
        .argParser(integer('--replication-factor', 1))
        .default(1),
    )
    .action(async (job: string, opts: { partitionCount?: number; replicationFactor: number }) => {
      process.exitCode = await createTopics(job, opts)
    })
  return program
}

async function createTopics(jobPath: string, opts: { partitionCount?: number; replicationFactor: number }) {
  const job = await jobFor(jobPath)
  if (!job) return ExitCodes.USAGE
  const partitions = opts.partitionCount ?? Math.max(...job.inputPartitions) + 1
  if (partitions <= Math.max(...job.inputPartitions)) {
    process.stderr.write(
      `kasper: --partition-count ${partitions} is too small: the job reads partition ${Math.max(...job.inputPartitions)}\n`,
    )
    return ExitCodes.USAGE
  }
  try {
    const { created, existing } = await createMissingTopics(
      job.kafka,
      job.inputTopics.map((topic) => ({ topic, partitions, replicationFactor: opts.replicationFactor })),
    )
    for (const topic of created)
      process.stdout.write(
        `created ${topic} (${partitions} partitions, replication factor ${opts.replicationFactor})\n`,
      )
    for (const { topic, partitions: n } of existing) process.stdout.write(`exists  ${topic} (${n} partitions)\n`)
    return ExitCodes.CLEAN
  } catch (error) {
    process.stderr.write(`kasper: creating topics failed: ${error instanceof Error ? error.message : String(error)}\n`)
    return ExitCodes.HALTED
  }
}

async function describe(jobPath: string, opts: { partitions?: number[]; json?: boolean }): Promise<number> {
  const job = await jobFor(jobPath)
  if (!job) return ExitCodes.USAGE
  const groupId = consumerGroupId(job.topicProcessorName)
  try {
    const [rows, group] = await Promise.all([
      describeOffsets(job.kafka, groupId, job.inputTopics, opts.partitions ?? job.inputPartitions),
      describeMembers(job.kafka, groupId),
    ])
    if (opts.json) {
      const out = { job: job.topicProcessorName, group: groupId, partitions: rows, members: group }
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
      return ExitCodes.CLEAN
    }
    const header = ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'LAST COMMITTED BY']
    const table = rows.map((r) => [
      r.topic,
      String(r.partition),
      r.committed ?? '-',
      r.end,
      r.lag,
      r.lastCommitter ?? '-',
    ])
    const total = rows.reduce((sum, r) => sum + BigInt(r.lag), 0n)
    process.stdout.write(
      `job ${job.topicProcessorName}, group ${groupId}, total lag ${total}\n${formatTable(header, table)}\n`,
    )
    process.stdout.write(
      group.members.length === 0
        ? `group ${group.state}: no members (static assignment, or no daemon of the job running)\n`
        : `group ${group.state}, ${group.members.length} members (group assignment)\n${formatTable(
            ['MEMBER', 'HOST', 'PARTITIONS'],
            group.members.map((m) => [m.memberId, m.clientHost, m.partitions.join(',') || '-']),
          )}\n`,
    )
    return ExitCodes.CLEAN
  } catch (error) {
    process.stderr.write(
      `kasper: describing ${groupId} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    return ExitCodes.HALTED
  }
}

async function run(jobPath: string, opts: Record<string, unknown>, latch: SignalLatch): Promise<number> {
  const logger = jsonLogger({ level: opts.logLevel as LogLevel })
  if ((opts.instance === undefined) !== (opts.instances === undefined)) {
    process.stderr.write('kasper: --instance and --instances go together (e.g. --instance 2 --instances 3)\n')
    return ExitCodes.USAGE
  }
  let supervisor: Supervisor
  try {
    supervisor = new Supervisor({
      jobPath,
      workers: opts.workers as number,
      ...(opts.partitions ? { partitions: opts.partitions as number[] } : {}),
      ...(opts.instances !== undefined
        ? { instance: { index: opts.instance as number, count: opts.instances as number } }
        : {}),
      ...(opts.assignment ? { assignment: opts.assignment as 'static' | 'group' } : {}),
      ...(opts.groupInstanceId ? { groupInstanceId: opts.groupInstanceId as string } : {}),
      sessionTimeoutMs: opts.sessionTimeoutMs as number,
      heartbeatIntervalMs: opts.heartbeatIntervalMs as number,
      onFailure: opts.onFailure as 'restart' | 'halt',
      maxRestarts: opts.maxRestarts as number,
      restartWindowMs: opts.restartWindowMs as number,
      metricsHost: opts.metricsHost as string,
      metricsPort: opts.metrics === false ? null : (opts.metricsPort as number),
      shutdownTimeoutMs: opts.shutdownTimeoutMs as number,
      stallTimeoutMs: opts.stallTimeoutMs as number,
      ...(opts.workerMaxOldGenerationMb ? { workerMaxOldGenerationMb: opts.workerMaxOldGenerationMb as number } : {}),
      workerMaxYoungGenerationMb: opts.workerMaxYoungGenerationMb as number,
      logger,
    })
  } catch (error) {
    process.stderr.write(`kasper: ${error instanceof Error ? error.message : String(error)}\n`)
    return ExitCodes.USAGE
  }
  // before start(): a signal at any moment, start-up included, stops gracefully
  let stopping = false
  latch.onSignal = (signal) => {
    if (stopping) {
      logger.info({ signal }, 'signal received: already stopping')
      return
    }
    stopping = true
    logger.info({ signal }, 'signal received: stopping gracefully')
    void supervisor.stop()
  }
  if (latch.received) latch.onSignal(latch.received)
  try {
    await supervisor.start()
  } catch (error) {
    process.stderr.write(`kasper: ${error instanceof Error ? error.message : String(error)}\n`)
    return KasperError.isKasperError(error) || error instanceof RangeError ? ExitCodes.USAGE : ExitCodes.HALTED
  }
  const result = await supervisor.done
  return result.exitCode
}
