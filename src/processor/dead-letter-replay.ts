/**
 * Replaying dead letters (`kasper dead-letters replay <job>`): every message in the job's
 * dead-letter topic up to its end offsets when the replay starts is produced again, to the topic
 * and partition it came from (its `kasper.dlq.source.*` headers) or to a chosen topic, with all its
 * headers (so its original coordinates travel with it). What was replayed is committed under group
 * `kasper-dead-letters-replay-<name>`, after the acks: a second replay does not repeat it, a crash
 * repeats at most the last chunk. Dead letters that land while it runs wait for the next replay.
 */
import type { Kafka } from 'kafkajs'
import { ErrorCodes, KasperError } from '../errors.js'
import { kafkajsProtocolClient, type TopicPartitionOffset } from '../kafka/client.js'
import { tpKey } from '../kafka/topic-partitions.js'
import { type Logger, silentLogger } from '../logging/logger.js'
import type { IncomingMessage, OutgoingMessage } from '../types.js'
import { DeadLetterHeaders } from './dead-letters.js'

export interface ReplayOptions {
  topicProcessorName: string
  deadLetterTopic: string
  /** Produce every dead letter to this topic (key partitioning) instead of where it came from. */
  to?: string
  /** Count what would be replayed; produce and commit nothing. */
  dryRun?: boolean
  logger?: Logger
  unavailableTimeoutMs?: number
}

export interface ReplayResult {
  group: string
  /** Messages replayed (or, in a dry run, that would be), per target topic. */
  byTopic: Record<string, number>
  replayed: number
}

export const replayGroupId = (topicProcessorName: string) => `kasper-dead-letters-replay-${topicProcessorName}`

const header = (m: IncomingMessage, name: string) => {
  const v = m.headers[name]
  return v === undefined ? undefined : v.toString()
}

/** Where a dead letter goes back to: `to` (key partitioning), or its source topic and partition. */
function target(m: IncomingMessage, to: string | undefined, dlq: string): OutgoingMessage {
  const headers: Record<string, Buffer | string> = {}
  for (const [name, value] of Object.entries(m.headers)) if (value !== undefined) headers[name] = value
  if (to !== undefined) return { topic: to, key: m.key, value: m.value, headers }
  const topic = header(m, DeadLetterHeaders.SOURCE_TOPIC)
  const partition = Number(header(m, DeadLetterHeaders.SOURCE_PARTITION))
  if (topic === undefined || !Number.isInteger(partition) || partition < 0) {
    throw new KasperError(
      ErrorCodes.CONFIG_INVALID,
      `${dlq}[${m.partition}] offset ${m.offset} has no ${DeadLetterHeaders.SOURCE_TOPIC}/${DeadLetterHeaders.SOURCE_PARTITION} headers (not written by kasper-ts?): replay it with --to <topic>; nothing of it was replayed`,
      { retriable: false },
    )
  }
  return { topic, partition, key: m.key, value: m.value, headers }
}

export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayResult> {
  const { deadLetterTopic: dlq, to, dryRun = false } = options
  const logger = options.logger ?? silentLogger
  const client = kafkajsProtocolClient(kafka, { unavailableTimeoutMs: options.unavailableTimeoutMs ?? 60_000, logger })
  await client.checkTopicsExist([dlq], 'dead-letter')
  if (to !== undefined) await client.checkTopicsExist([to], 'replay target')
  const count = await client.checkInputLayout([dlq], [0])
  const group = replayGroupId(options.topicProcessorName)
  const connection = await client.connect([dlq])
  const byTopic: Record<string, number> = {}
  let replayed = 0
  try {
    const all = Array.from({ length: count }, (_, partition) => ({ topic: dlq, partition }))
    const offsets = connection.offsets(group)
    const [committed, bounds] = await Promise.all([offsets.fetchCommitted(all), connection.logBounds(all)])
    const ends = new Map<number, bigint>()
    const start: TopicPartitionOffset[] = []
    for (const { partition } of all) {
      const b = bounds.get(tpKey(dlq, partition))
      const from = committed.get(tpKey(dlq, partition)) ?? b?.start ?? '0'
      const end = BigInt(b?.end ?? '0')
      // an offset below the log start (retention) starts at the log start
      const begin = BigInt(from) < BigInt(b?.start ?? '0') ? (b?.start ?? '0') : from
      if (BigInt(begin) < end) {
        ends.set(partition, end)
        start.push({ topic: dlq, partition, offset: begin })
      }
    }
    const reader = connection.reader(start, {
      maxWaitMs: 250,
      maxBytes: 16 * 1024 * 1024,
      maxBytesPerPartition: 1024 * 1024,
      unavailableTimeoutMs: options.unavailableTimeoutMs ?? 60_000,
    })
    const open = () =>
      start.filter(({ partition }) => BigInt(reader.position(dlq, partition)) < (ends.get(partition) ?? 0n))
    for (let wanted = open(); wanted.length > 0; wanted = open()) {
      for (const { partition, messages } of await reader.fetch(wanted)) {
        const end = ends.get(partition) ?? 0n
        const chunk = messages.slice().filter((m) => BigInt(m.offset) < end)
        if (chunk.length === 0) continue
        const out = chunk.map((m) => target(m, to, dlq))
        for (const m of out) byTopic[m.topic] = (byTopic[m.topic] ?? 0) + 1
        replayed += out.length
        if (dryRun) continue
        await connection.writer.produce(out)
        const next = (BigInt((chunk.at(-1) as IncomingMessage).offset) + 1n).toString()
        await offsets.commit(
          [{ topic: dlq, partition, offset: next }],
          `kasper-ts:replay:${options.topicProcessorName}`,
        )
        logger.info({ deadLetterTopic: dlq, partition, replayed: out.length, next }, 'dead letters replayed')
      }
    }
    return { group, byTopic, replayed }
  } finally {
    await connection.close()
  }
}
