/**
 * `kasper offsets reset`: moves a job's committed input offsets (group
 * `kasper-topic-processor-<name>`) to the log start, the end, the first offset at or after a time,
 * or a given offset, for all or some of its partitions. Refused while an instance of the job is
 * committing: the committed offsets are read twice, `watchMs` apart, and any change stops the reset
 * with KASPER_JOB_ACTIVE naming the instance. A running instance that started committing only
 * afterwards stops at its next overlap check (KASPER_PARTITION_OVERLAP): the reset's commits carry
 * metadata of their own.
 */
import { hostname } from 'node:os'
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs'
import { ConfigError, ErrorCodes, KasperError } from '../errors.js'
import { createCluster } from './cluster.js'
import { fetchLogBounds, GroupOffsets } from './offsets.js'
import { topicPartitions, tpKey } from './topic-partitions.js'

export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'time'; ms: number }
  | { kind: 'offset'; offset: bigint }

/** Parses `--to`: earliest, latest, an ISO-8601 time with a zone, or a non-negative offset. */
export function parseResetTarget(text: string): ResetTarget {
  if (text === 'earliest' || text === 'latest') return { kind: text }
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: BigInt(text) }
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(text) && Number.isFinite(Date.parse(text)))
    return { kind: 'time', ms: Date.parse(text) }
  throw new ConfigError('offsets reset', [
    {
      field: 'to',
      message: `expected earliest, latest, an ISO-8601 time with a zone (2026-11-29T10:00:00Z) or an offset, got ${JSON.stringify(text)}`,
    },
  ])
}

export interface ResetRow {
  topic: string
  partition: number
  /** The committed offset now (null: none). */
  from: string | null
  to: string
  /** Who wrote the current commit (commit metadata). */
  lastCommitter: string | null
}

export interface ResetOptions {
  target: ResetTarget
  /** Only compute and return the rows; commit nothing. */
  dryRun: boolean
  /** How long committed offsets must stay still before the reset commits. */
  watchMs: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Computes the new offsets and, unless dryRun, commits them once no instance is seen committing. */
export async function resetOffsets(
  config: KafkaConfig,
  groupId: string,
  topics: readonly string[],
  partitions: readonly number[],
  options: ResetOptions,
): Promise<ResetRow[]> {
  const kafka = new Kafka({ ...config, logLevel: logLevel.NOTHING })
  const cluster = createCluster(kafka)
  const admin = kafka.admin()
  await Promise.all([cluster.connect(), admin.connect()])
  try {
    await cluster.addMultipleTargetTopics([...topics])
    const all = topicPartitions(topics, partitions)
    const offsets = new GroupOffsets(cluster, groupId, 10_000)
    const [before, bounds] = await Promise.all([offsets.fetchCommittedWithMetadata(all), fetchLogBounds(cluster, all)])
    const byTime = new Map<string, string>()
    if (options.target.kind === 'time') {
      for (const topic of topics) {
        for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, options.target.ms))
          byTime.set(tpKey(topic, partition), offset)
      }
    }
    const rows = all.map(({ topic, partition }): ResetRow => {
      const key = tpKey(topic, partition)
      const b = bounds.get(key) ?? { start: '0', end: '0' }
      const target = options.target
      let to: string
      if (target.kind === 'earliest') to = b.start
      else if (target.kind === 'latest') to = b.end
      else if (target.kind === 'time') to = byTime.get(key) ?? b.end
      else {
        if (target.offset < BigInt(b.start) || target.offset > BigInt(b.end)) {
          throw new KasperError(
            ErrorCodes.OFFSET_OUT_OF_RANGE,
            `offset ${target.offset} is outside ${topic}[${partition}], whose log holds ${b.start} to ${b.end}`,
            { retriable: false },
          )
        }
        to = target.offset.toString()
      }
      const c = before.get(key)
      return { topic, partition, from: c?.offset ?? null, to, lastCommitter: c?.metadata ?? null }
    })
    if (options.dryRun) return rows
    await sleep(options.watchMs)
    const after = await offsets.fetchCommittedWithMetadata(all)
    for (const { topic, partition } of all) {
      const key = tpKey(topic, partition)
      const was = before.get(key)
      const now = after.get(key)
      if (was?.offset !== now?.offset || was?.metadata !== now?.metadata) {
        throw new KasperError(
          ErrorCodes.JOB_ACTIVE,
          `an instance of the job is committing (${topic}[${partition}] moved from ${was?.offset ?? 'none'} to ` +
            `${now?.offset ?? 'none'} within ${options.watchMs} ms, written by ${now?.metadata ?? 'unknown'}): stop it first`,
          { retriable: true },
        )
      }
    }
    await offsets.commit(
      rows.map(({ topic, partition, to }) => ({ topic, partition, offset: to })),
      `kasper-ts:offsets-reset/${hostname()}/${process.pid}`,
    )
    return rows
  } finally {
    await Promise.allSettled([cluster.disconnect(), admin.disconnect()])
  }
}
