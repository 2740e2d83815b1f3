/**
 * Pure planning of a batch's output: every message gets its partition (the caller's, or the
 * partitioner's), is checked against the topic's layout and size limit, and the output is cut into
 * produce rounds that the broker accepts: per partition, contiguous runs of messages whose record
 * batch stays under the topic's max.message.bytes; per round, at most one run per partition and a
 * bounded request size. Rounds go out one after the other, so order per partition is kept.
 */
import { ErrorCodes, OutputError } from '../errors.js'
import type { OutgoingMessage } from '../types.js'

/** What the producer knows of an output topic. */
export interface OutputTopicInfo {
  partitions: number
  /** The topic's max.message.bytes: the largest record batch the broker appends. */
  maxMessageBytes: number
}

/** Picks a partition for a message that names none (kafkajs's default partitioner: murmur2 of the key). */
export type PickPartition = (topic: string, partitions: number, message: OutgoingMessage) => number

export interface ProduceRun {
  topic: string
  partition: number
  messages: OutgoingMessage[]
  bytes: number
  /** In a transaction: the run's first sequence number, assigned once, so a resend is deduplicated. */
  baseSequence?: number
}

/** Bytes of a v2 record batch header (Kafka's RecordBatch: baseOffset through recordCount). */
export const RECORD_BATCH_OVERHEAD = 61
/** Upper bound of a record's own overhead: length, attributes, timestamp and offset deltas, key and value lengths, header count. */
const RECORD_OVERHEAD = 40
/** Bytes kept free under max.message.bytes, for the estimate's sake. */
const SAFETY_MARGIN = 1024

const byteLength = (v: Buffer | string | null | undefined) =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length

/** An upper bound of a message's size inside an uncompressed record batch. */
export function recordSize(message: OutgoingMessage): number {
  let size = RECORD_OVERHEAD + byteLength(message.key) + byteLength(message.value)
  if (message.headers) {
    for (const [name, value] of Object.entries(message.headers))
      size += 10 + Buffer.byteLength(name) + byteLength(value)
  }
  return size
}

/** The largest run of records, in bytes, that one record batch of a topic may carry. */
export const runLimit = (info: OutputTopicInfo) =>
  Math.max(1, info.maxMessageBytes - RECORD_BATCH_OVERHEAD - SAFETY_MARGIN)

/** Throws OUTPUT_PARTITION_NOT_FOUND when `partition` is outside the topic's partitions. */
export function checkPartition(topic: string, partition: number, info: OutputTopicInfo): void {
  if (partition >= info.partitions) {
    throw new OutputError(
      ErrorCodes.OUTPUT_PARTITION_NOT_FOUND,
      `output partition ${partition} of topic "${topic}" does not exist: the topic has ${info.partitions} ` +
        `partition${info.partitions === 1 ? '' : 's'} (0 to ${info.partitions - 1})`,
      topic,
      partition,
    )
  }
}

interface TopicPlan {
  info: OutputTopicInfo
  limit: number
  /** Runs per partition (index = partition number). */
  queues: (ProduceRun[] | undefined)[]
  /** Where the next message with neither key nor partition goes (round robin, as kafkajs does). */
  next: number
}

/**
 * Cuts `messages` into produce rounds. `info(topic)` must know every topic named. A message with a
 * partition keeps it; one with a key gets `pick`'s partition; one with neither goes round robin
 * (measured here: spreading a batch beats filling one partition's record batch first). Throws
 * OutputError for a partition the topic does not have or a message over the topic's size limit,
 * before anything is produced.
 */
export function planRounds(
  messages: readonly OutgoingMessage[],
  info: (topic: string) => OutputTopicInfo,
  pick: PickPartition,
  maxRequestBytes: number,
): ProduceRun[][] {
  const topics = new Map<string, TopicPlan>()
  /** Every topic-partition's runs, in the order partitions first appear. */
  const order: ProduceRun[][] = []
  let lastTopic: string | undefined
  let plan: TopicPlan | undefined
  for (const message of messages) {
    if (message.topic !== lastTopic || !plan) {
      lastTopic = message.topic
      plan = topics.get(message.topic)
      if (!plan) {
        const topicInfo = info(message.topic)
        plan = {
          info: topicInfo,
          limit: runLimit(topicInfo),
          queues: [],
          next: Math.floor(Math.random() * topicInfo.partitions),
        }
        topics.set(message.topic, plan)
      }
    }
    const size = recordSize(message)
    let partition = message.partition
    if (partition === undefined) {
      if (message.key != null) {
        partition = pick(message.topic, plan.info.partitions, message)
      } else {
        partition = plan.next
        plan.next = (plan.next + 1) % plan.info.partitions
      }
    } else {
      checkPartition(message.topic, partition, plan.info)
    }
    if (size > plan.limit) {
      throw new OutputError(
        ErrorCodes.MESSAGE_TOO_LARGE,
        `a message to ${message.topic}[${partition}] is ${size} bytes; the topic accepts record batches of at most ` +
          `${plan.info.maxMessageBytes} bytes (max.message.bytes), so it can never be produced`,
        message.topic,
        partition,
      )
    }
    let queue = plan.queues[partition]
    if (!queue) {
      queue = []
      plan.queues[partition] = queue
      order.push(queue)
    }
    let run = queue[queue.length - 1]
    if (!run || run.bytes + size > plan.limit) {
      run = { topic: message.topic, partition, messages: [], bytes: RECORD_BATCH_OVERHEAD }
      queue.push(run)
    }
    // the run carries the partition; the message is not copied
    run.messages.push(message)
    run.bytes += size
  }
  const rounds: ProduceRun[][] = []
  const next = new Array<number>(order.length).fill(0)
  while (true) {
    const round: ProduceRun[] = []
    let bytes = 0
    for (let i = 0; i < order.length; i++) {
      const run = order[i]?.[next[i] ?? 0]
      if (!run) continue
      if (round.length > 0 && bytes + run.bytes > maxRequestBytes) continue
      round.push(run)
      bytes += run.bytes
      next[i] = (next[i] ?? 0) + 1
    }
    if (round.length === 0) return rounds
    rounds.push(round)
  }
}
