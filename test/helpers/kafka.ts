import { randomUUID } from 'node:crypto'
import { Kafka, type KafkaMessage, logLevel, type Message } from 'kafkajs'
import { inject } from 'vitest'
import { createTopicsWithLeaders } from '../../src/kafka/create-topics.js'
import { patchKafkajs } from '../../src/kafka/kafkajs-patches.js'
import { readCommittedRecords } from './cluster.js'

// tests that use only these helpers load kafkajs without the library's patch: apply it here too
patchKafkajs()

export const brokers = (): string[] => inject('kafkaBrokers')
export const redisUrl = (): string => inject('redisUrl')
export const openSearchUrl = (): string => inject('openSearchUrl')
export const cassandraContactPoint = (): string => inject('cassandraContactPoint')

export function createKafka(clientId = 'kasper-test'): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING })
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

export async function createTopics(kafka: Kafka, topics: readonly string[], numPartitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await createTopicsWithLeaders(
      admin,
      topics.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })),
    )
  } finally {
    await admin.disconnect()
  }
}

export async function produce(kafka: Kafka, topic: string, messages: Message[]): Promise<void> {
  // idempotent: a request retried after a timeout on a loaded machine must not write its messages twice
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    for (let i = 0; i < messages.length; i += 5000) {
      // right after createTopics a broker may not know the topic yet: retry that for a while
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 5000) })
          break
        } catch (error) {
          const e = error as { type?: string; cause?: { type?: string } }
          if ((e.type ?? e.cause?.type) !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 20) throw error
          await new Promise((r) => setTimeout(r, 250))
        }
      }
    }
  } finally {
    await producer.disconnect()
  }
}

export interface ReadMessage {
  topic: string
  partition: number
  offset: string
  key: string | null
  value: string | null
  headers: Record<string, string>
}

/** Reads a topic from the beginning with kafkajs's own consumer until `count` messages arrived (or times out). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
  /** kafkajs reads committed data only by default (read_committed); true also returns open and aborted transactions' records. */
  readUncommitted = false,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('kasper-test-reader'), maxWaitTimeInMs: 100, readUncommitted })
  const seen: ReadMessage[] = []
  await consumer.connect()
  try {
    let done: () => void = () => {}
    const finished = new Promise<void>((resolve) => {
      done = resolve
    })
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({
        topic: t,
        partition,
        message,
      }: {
        topic: string
        partition: number
        message: KafkaMessage
      }) => {
        seen.push({
          topic: t,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, v]) => [
              name,
              Array.isArray(v) ? String(v[0]) : String(v),
            ]),
          ),
        })
        if (seen.length >= count) done()
      },
    })
    await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))])
    // a short grace period to catch messages beyond the expected count
    await new Promise((r) => setTimeout(r, 300))
    return seen
  } finally {
    await consumer.disconnect()
  }
}

/** Committed offsets of a group for one topic, by partition (-1 when none). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return new Map((result?.partitions ?? []).map((p) => [p.partition, p.offset]))
  } finally {
    await admin.disconnect()
  }
}

/** The end offset (high watermark) of each partition of a topic. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]))
  } finally {
    await admin.disconnect()
  }
}

/** Messages processed by a group on a topic: the sum of its committed offsets (topics start at offset 0). */
export async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const committed = await committedOffsets(kafka, groupId, topic)
  return [...committed.values()].reduce((sum, offset) => sum + Math.max(0, Number(offset)), 0)
}

/** `n` messages whose key and value are `<prefix><i>`, on one partition. */
export const values = (prefix: string, n: number, partition = 0) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: `${prefix}${i}`, partition }))

export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  stepMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, stepMs))
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}

/** Waits until a group's committed offsets of `topic` are `ends` (partition → next offset). */
export async function waitCommitted(
  kafka: Kafka,
  groupId: string,
  topic: string,
  ends: Record<number, number>,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(async () => {
    const committed = await committedOffsets(kafka, groupId, topic)
    return Object.entries(ends).every(([p, o]) => committed.get(Number(p)) === String(o)) || undefined
  }, timeoutMs)
}

/**
 * Every committed record of `topic`, read by Kafka's own console consumer under read_committed:
 * the audit of transactional output. kafkajs's read_committed consumer has returned records of
 * aborted transactions (docs/exactly-once.md), so it cannot judge them.
 */
export async function readCommittedByKafka(
  kafka: Kafka,
  topic: string,
): Promise<{ partition: number; offset: number; key: string; value: string }[]> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    // a local broker: 4 s without a record means the committed records are all read
    return await readCommittedRecords(brokers(), admin, topic, { transactional: true, idleTimeoutMs: 4000 })
  } finally {
    await admin.disconnect()
  }
}
