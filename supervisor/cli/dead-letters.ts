/** `kasper dead-letters replay <job>`: see src/processor/dead-letter-replay.ts for the rules. */
import { KasperError } from '../../src/errors.js'
import { kafkaFor } from '../../src/kafka/client.js'
import { replayDeadLetters } from '../../src/processor/dead-letter-replay.js'
import { ExitCodes } from '../supervisor.js'
import { jobFor } from './job-for.js'
import { formatTable } from './table.js'

export interface ReplayCommandOptions {
  to?: string
  dryRun?: boolean
  json?: boolean
}

export async function replayCommand(jobPath: string, opts: ReplayCommandOptions): Promise<number> {
  const job = await jobFor(jobPath)
  if (!job) return ExitCodes.USAGE
  const deadLetterTopic = job.deadLetter.topic ?? `${job.topicProcessorName}.dlq`
  try {
    const result = await replayDeadLetters(kafkaFor(job.kafka), {
      topicProcessorName: job.topicProcessorName,
      deadLetterTopic,
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      dryRun: opts.dryRun === true,
    })
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ deadLetterTopic, dryRun: opts.dryRun === true, ...result }, null, 2)}\n`)
    } else {
      const verb = opts.dryRun ? 'would replay (dry run, nothing produced or committed)' : 'replayed'
      const rows = Object.entries(result.byTopic).map(([topic, n]) => [topic, String(n)])
      process.stdout.write(
        `job ${job.topicProcessorName}, ${deadLetterTopic}: ${verb} ${result.replayed} dead letter${result.replayed === 1 ? '' : 's'} (group ${result.group})\n` +
          (rows.length > 0 ? `${formatTable(['TO TOPIC', 'MESSAGES'], rows)}\n` : ''),
      )
    }
    return ExitCodes.CLEAN
  } catch (error) {
    const kasper = KasperError.isKasperError(error) ? error : undefined
    process.stderr.write(
      `kasper: replaying ${deadLetterTopic} failed${kasper ? ` (${kasper.code})` : ''}: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    return kasper && !kasper.retriable ? ExitCodes.USAGE : ExitCodes.HALTED
  }
}
