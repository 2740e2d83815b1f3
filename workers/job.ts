/**
 * The job module contract: what `kasper run ./job.js` loads, in the supervisor (to validate and to
 * slice the partitions) and in every worker thread (to run). Functions cannot cross threads, so a
 * job names its settings in serializable form (a kafkajs config, not a Kafka instance) and gives a
 * factory for its processors.
 *
 *   export default defineJob({
 *     topicProcessorName: 'twitter-reach',
 *     kafka: { brokers: ['127.0.0.1:9092'] },
 *     inputTopics: ['tweets', 'twitter-followers'],
 *     inputPartitions: range(0, 12),
 *     async createProcessor(ctx) { return new ReachProcessor(await ctx.redis()) },
 *   })
 *
 * Keep the module's top level free of side effects (connections, timers): it is imported by the
 * supervisor and by each worker.
 */
import { pathToFileURL } from 'node:url'
import type { Redis } from 'ioredis'
import type { Kafka, KafkaConfig } from 'kafkajs'
import { z } from 'zod'
import { ErrorCodes, KasperError } from '../src/errors.js'
import type { Logger } from '../src/logging/logger.js'
import type { MetricsProvider } from '../src/metrics/provider.js'
import { parseOptions } from '../src/options.js'
import { partitionList, topicProcessorSchema } from '../src/processor/options.js'
import type { MessageProcessor } from '../src/types.js'

export interface JobContext {
  /** The partition this processor serves. */
  readonly partition: number
  /** Every partition of this worker's slice (under group assignment: as of now; a rebalance changes it). */
  readonly partitions: readonly number[]
  /** The slice (worker) index. */
  readonly slice: number
  readonly logger: Logger
  readonly metrics: MetricsProvider
  readonly kafka: Kafka
  /** A Redis client for stores (createRedisClient settings), shared by the slice, closed when it stops. URL: job.redis.url, else REDIS_URL, else 127.0.0.1:6379. */
  redis(): Promise<Redis>
  /** Runs `fn` when the slice stops, after its last commit. */
  onClose(fn: () => Promise<void> | void): void
}

const jobSchema = topicProcessorSchema
  .omit({ kafka: true, logger: true, metrics: true, groupGeneration: true })
  .extend({
    /**
     * How the job's partitions are shared among its daemons: 'static' (each daemon is given its
     * partitions: --partitions, --instance) or 'group' (the daemons join the job's consumer group
     * and Kafka's coordinator assigns them, with failover). `kasper run --assignment` overrides it.
     */
    assignment: z.enum(['static', 'group']).default('static'),
    inputPartitions: partitionList.min(1, 'inputPartitions must list at least one partition'),
    kafka: z.custom<KafkaConfig>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        Array.isArray((v as KafkaConfig).brokers) &&
        (v as KafkaConfig).brokers.length > 0,
      'kafka must be a kafkajs config with a non-empty brokers array',
    ),
    redis: z
      .object({
        url: z
          .string()
          .url('redis.url must be a URL')
          .refine(
            (u) => /^(redis|rediss|unix):/.test(u),
            'redis.url must start with redis://, rediss:// or unix:// (ioredis understands no other scheme)',
          ),
      })
      .strict()
      .optional(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    createProcessor: z.custom<(ctx: JobContext) => MessageProcessor | Promise<MessageProcessor>>(
      (v) => typeof v === 'function',
      'createProcessor must be a function (ctx) => MessageProcessor',
    ),
  })
  .strict()

export type JobDefinition = z.input<typeof jobSchema>
export type Job = z.output<typeof jobSchema>

const JOB_BRAND = Symbol.for('kasper-ts.job')

/** Declares a job; validates it at once, so a bad job fails where it is defined. */
export function defineJob(definition: JobDefinition): Job {
  const job = validateJob(definition)
  Object.defineProperty(job, JOB_BRAND, { value: true })
  return job
}

export function validateJob(definition: unknown): Job {
  try {
    return parseOptions('job', jobSchema, definition)
  } catch (error) {
    throw new KasperError(ErrorCodes.JOB_INVALID, (error as Error).message, { cause: error })
  }
}

/** Partitions `from` (inclusive) to `to` (exclusive). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
}

let loads = 0

/**
 * Imports a job module by path and returns its validated default export (or a named `job`).
 * `fresh` re-imports (a new module instance), so a long-lived supervisor sees edits on restart.
 */
/** True when this Node strips TypeScript types itself (22.6+ with the flag, 23.6+ by default). */
const nodeStripsTypes = () => Boolean((process.features as { typescript?: unknown }).typescript)

export async function loadJob(path: string, fresh = false): Promise<Job> {
  if (/\.[mc]?ts$/.test(path) && !nodeStripsTypes()) {
    throw new KasperError(
      ErrorCodes.JOB_INVALID,
      `cannot load job module ${path}: Node ${process.versions.node} does not run TypeScript. ` +
        'Compile the job to JavaScript (tsc) and run the .js file, or use Node 22.6+ ' +
        '(--experimental-strip-types) or Node 23.6+, which strip types in the supervisor and in every worker',
    )
  }
  const url = pathToFileURL(path).href + (fresh ? `?load=${++loads}` : '')
  let module: Record<string, unknown>
  try {
    module = (await import(url)) as Record<string, unknown>
  } catch (error) {
    throw new KasperError(ErrorCodes.JOB_INVALID, `cannot load job module ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const exported = module.default ?? module.job
  if (exported === undefined) {
    throw new KasperError(
      ErrorCodes.JOB_INVALID,
      `job module ${path} exports no job: export default defineJob({ ... })`,
    )
  }
  return validateJob(exported)
}
