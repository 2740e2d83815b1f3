import type { Kafka } from 'kafkajs'
import { z } from 'zod'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { silentLogger } from '../logging/logger.js'
import type { MetricsProvider } from '../metrics/provider.js'
import { NoopMetrics } from '../metrics/provider.js'
import { parseOptions } from '../options.js'

const positiveInt = (field: string) =>
  z
    .number({ error: `${field} must be a number` })
    .int(`${field} must be an integer`)
    .positive(`${field} must be > 0`)

const isKafka = (v: unknown): v is Kafka =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Kafka).producer === 'function' &&
  typeof (v as Kafka).admin === 'function'
const isLogger = (v: unknown): v is Logger =>
  typeof v === 'object' &&
  v !== null &&
  ['debug', 'info', 'warn', 'error', 'child'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
const isMetrics = (v: unknown): v is MetricsProvider =>
  typeof v === 'object' &&
  v !== null &&
  ['counter', 'gauge', 'histogram'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')

/** Partition numbers: non-negative integers, none twice. */
export const partitionList = z
  .array(z.number().int('partitions must be integers').nonnegative('partitions must be >= 0'), {
    error: 'inputPartitions must be an array of partition numbers',
  })
  .refine((p) => new Set(p).size === p.length, 'inputPartitions must not repeat a partition')

export const topicProcessorSchema = z
  .object({
    topicProcessorName: z
      .string({ error: 'topicProcessorName must be a string' })
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'topicProcessorName must be 1-200 characters of A-Z a-z 0-9 . _ -'),
    kafka: z.custom<Kafka>(isKafka, 'kafka must be a kafkajs Kafka instance'),
    inputTopics: z
      .array(z.string().min(1, 'topic names must not be empty'), {
        error: 'inputTopics must be an array of topic names',
      })
      .min(1, 'inputTopics must name at least one topic')
      .refine((t) => new Set(t).size === t.length, 'inputTopics must not repeat a topic'),
    // at least one, except for a group member's worker that waits for its first partitions (resolve below)
    inputPartitions: partitionList,
    batchSize: positiveInt('batchSize').max(1_000_000, 'batchSize must be <= 1000000').default(1000),
    batchWaitMs: positiveInt('batchWaitMs').default(5000),
    initialOffset: z.enum(['earliest', 'latest']).default('earliest'),
    offsetReset: z.enum(['none', 'earliest', 'latest']).default('none'),
    processTimeoutMs: positiveInt('processTimeoutMs').default(300_000),
    logger: z.custom<Logger>(isLogger, 'logger must implement debug/info/warn/error/child').default(silentLogger),
    metrics: z
      .custom<MetricsProvider>(isMetrics, 'metrics must implement counter/gauge/histogram')
      .default(() => new NoopMetrics()),
    metricsUpdateIntervalMs: positiveInt('metricsUpdateIntervalMs').default(15_000),
    fetchMaxWaitMs: positiveInt('fetchMaxWaitMs').default(250),
    fetchMaxBytes: positiveInt('fetchMaxBytes').default(16 * 1024 * 1024),
    // 256 KiB: a fetch is held about three times while decoded (socket chunks, the joined response,
    // each partition's copy); at 1 MiB × 12 partitions that peak cost ~40 MiB of RSS on the benchmark
    // for the same throughput. A record batch larger than this is still returned whole (KIP-74).
    fetchMaxBytesPerPartition: positiveInt('fetchMaxBytesPerPartition').default(256 * 1024),
    maxBufferedMessagesPerPartition: positiveInt('maxBufferedMessagesPerPartition').optional(),
    unavailableTimeoutMs: positiveInt('unavailableTimeoutMs').default(60_000),
    overlapCheckIntervalMs: positiveInt('overlapCheckIntervalMs').default(15_000),
    /**
     * Group assignment (set by the daemon, not by jobs): this member's generation of the job's
     * consumer group. Commits carry it, so once the generation is over Kafka refuses them
     * (KASPER_ASSIGNMENT_LOST) instead of accepting a commit from a member that lost its partitions.
     */
    groupGeneration: z
      .object({
        generationId: z
          .number()
          .int('groupGeneration.generationId must be an integer')
          .min(-1, 'groupGeneration.generationId must be >= -1 (-1: not joined yet)'),
        memberId: z.string(),
      })
      .strict()
      .refine(
        (g) => g.generationId === -1 || g.memberId.length > 0,
        'groupGeneration.memberId must not be empty once the member has joined',
      )
      .optional(),
    /**
     * 'exactly-once': each batch's output and its input offsets are committed in one Kafka
     * transaction (transactional id per input partition), so read_committed consumers see each
     * input's output once across crashes and restarts (docs/exactly-once.md).
     */
    guarantee: z
      .enum(['at-least-once', 'exactly-once'], { error: "guarantee must be 'at-least-once' or 'exactly-once'" })
      .default('at-least-once'),
    /**
     * Which input records process() sees: 'read_committed' skips records of open and aborted
     * transactions (what an exactly-once job downstream of another transactional writer needs);
     * 'read_uncommitted' hands over everything written, sooner (no wait for transactions to end).
     */
    isolationLevel: z
      .enum(['read_committed', 'read_uncommitted'], {
        error: "isolationLevel must be 'read_committed' or 'read_uncommitted'",
      })
      .default('read_committed'),
    /** Exactly-once: the broker aborts a transaction left open this long (a processor that died mid-batch). */
    transactionTimeoutMs: positiveInt('transactionTimeoutMs')
      .max(900_000, 'transactionTimeoutMs must be <= 900000 (the broker maximum by default)')
      .default(60_000),
    /**
     * What a failing process() does: 'fail' stops the processor (the batch is not committed);
     * 'dead-letter' retries the batch, then finds the messages that fail alone and writes them to
     * the dead-letter topic before the batch is produced and committed (docs/dead-letters.md).
     */
    onProcessError: z
      .enum(['fail', 'dead-letter'], { error: "onProcessError must be 'fail' or 'dead-letter'" })
      .default('fail'),
    deadLetter: z
      .object({
        /** Default `<topicProcessorName>.dlq`; it must exist (checked at start). */
        topic: z.string().min(1, 'deadLetter.topic must not be empty').optional(),
        /** Whole-batch retries before the batch is split. */
        retries: z
          .number({ error: 'deadLetter.retries must be a number' })
          .int('deadLetter.retries must be an integer')
          .nonnegative('deadLetter.retries must be >= 0')
          .max(10, 'deadLetter.retries must be <= 10')
          .default(2),
        /** Back-off before the first retry, doubled for each next one. */
        retryBackoffMs: positiveInt('deadLetter.retryBackoffMs').default(500),
        /** The breaker trips when more dead letters than this fall within windowMs. */
        maxDeadLetters: positiveInt('deadLetter.maxDeadLetters').default(100),
        /** ... or when more than this share of the window's messages (once it holds 100) are dead letters. */
        maxDeadLetterRatio: z
          .number({ error: 'deadLetter.maxDeadLetterRatio must be a number' })
          .gt(0, 'deadLetter.maxDeadLetterRatio must be > 0')
          .max(1, 'deadLetter.maxDeadLetterRatio must be <= 1')
          .default(0.5),
        windowMs: positiveInt('deadLetter.windowMs').default(60_000),
      })
      .strict()
      .prefault({}),
    /** How often an info line sums up the work since the last one; 0 turns it off. */
    progressLogIntervalMs: z
      .number({ error: 'progressLogIntervalMs must be a number' })
      .int('progressLogIntervalMs must be an integer')
      .nonnegative('progressLogIntervalMs must be >= 0 (0: off)')
      .default(60_000),
  })
  .strict()

/** Options as the user writes them (defaults optional). Documented field by field in docs/topic-processor.md. */
export type TopicProcessorOptions = z.input<typeof topicProcessorSchema>
export type ResolvedTopicProcessorOptions = z.output<typeof topicProcessorSchema> & {
  maxBufferedMessagesPerPartition: number
  deadLetter: { topic: string }
}

export function resolveTopicProcessorOptions(input: unknown): ResolvedTopicProcessorOptions {
  const parsed = parseOptions('TopicProcessor', topicProcessorSchema, input)
  // a group member's worker may start before its member joined: with no partitions, to be given some by reassign()
  const waiting = parsed.groupGeneration !== undefined
  const notJoined = parsed.groupGeneration?.generationId === -1
  if ((parsed.inputPartitions.length === 0 && !waiting) || (notJoined && parsed.inputPartitions.length > 0)) {
    throw new ConfigError('TopicProcessor', [
      {
        field: 'inputPartitions',
        message: notJoined
          ? 'inputPartitions must be empty before the member joined (groupGeneration.generationId -1)'
          : 'inputPartitions must list at least one partition',
      },
    ])
  }
  return {
    ...parsed,
    maxBufferedMessagesPerPartition: parsed.maxBufferedMessagesPerPartition ?? Math.max(parsed.batchSize, 1000),
    deadLetter: { ...parsed.deadLetter, topic: parsed.deadLetter.topic ?? `${parsed.topicProcessorName}.dlq` },
  }
}

export const consumerGroupId = (topicProcessorName: string) => `kasper-topic-processor-${topicProcessorName}`
