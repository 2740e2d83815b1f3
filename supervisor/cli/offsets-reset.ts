/** `kasper offsets reset <job> --to …`: see src/kafka/reset-offsets.ts for the rules. */
import { KasperError } from '../../src/errors.js'
import { parseResetTarget, type ResetTarget, resetOffsets } from '../../src/kafka/reset-offsets.js'
import { consumerGroupId } from '../../src/processor/options.js'
import { ExitCodes } from '../supervisor.js'
import { jobFor } from './job-for.js'
import { formatTable } from './table.js'

export interface ResetCommandOptions {
  to: string
  partitions?: number[]
  dryRun?: boolean
  watchMs: number
  json?: boolean
}

export async function resetCommand(jobPath: string, opts: ResetCommandOptions): Promise<number> {
  let target: ResetTarget
  try {
    target = parseResetTarget(opts.to)
  } catch (error) {
    process.stderr.write(`kasper: --to: ${error instanceof Error ? error.message : String(error)}\n`)
    return ExitCodes.USAGE
  }
  const job = await jobFor(jobPath)
  if (!job) return ExitCodes.USAGE
  const unknown = (opts.partitions ?? []).filter((p) => !job.inputPartitions.includes(p))
  if (unknown.length > 0) {
    process.stderr.write(`kasper: --partitions ${unknown.join(',')}: the job does not read these partitions\n`)
    return ExitCodes.USAGE
  }
  const groupId = consumerGroupId(job.topicProcessorName)
  try {
    const rows = await resetOffsets(job.kafka, groupId, job.inputTopics, opts.partitions ?? job.inputPartitions, {
      target,
      dryRun: opts.dryRun === true,
      watchMs: opts.watchMs,
    })
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ job: job.topicProcessorName, group: groupId, dryRun: opts.dryRun === true, partitions: rows }, null, 2)}\n`,
      )
    } else {
      const header = ['TOPIC', 'PARTITION', 'FROM', 'TO']
      const table = rows.map((r) => [r.topic, String(r.partition), r.from ?? '-', r.to])
      const verb = opts.dryRun ? 'would reset (dry run, nothing committed)' : 'reset'
      process.stdout.write(`job ${job.topicProcessorName}, group ${groupId}: ${verb}\n${formatTable(header, table)}\n`)
    }
    return ExitCodes.CLEAN
  } catch (error) {
    const kasper = KasperError.isKasperError(error) ? error : undefined
    process.stderr.write(
      `kasper: resetting ${groupId} failed${kasper ? ` (${kasper.code})` : ''}: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    // an offset outside the log is a usage error; a job still committing may be retried once it is stopped
    return kasper && !kasper.retriable ? ExitCodes.USAGE : ExitCodes.HALTED
  }
}
