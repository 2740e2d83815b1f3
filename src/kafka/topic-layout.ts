import type { Admin, Kafka } from 'kafkajs'
import { ErrorCodes, TopicLayoutError } from '../errors.js'

/**
 * Checks, before anything is read, that every input topic exists, that all have the same partition
 * count, and that every requested partition exists. Resolves with the shared partition count.
 */
export async function checkTopicLayout(
  kafka: Kafka,
  topics: readonly string[],
  partitions: readonly number[],
): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await throwMissing(admin, topics, 'input', () => '')
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] })
    const counts: Record<string, number> = {}
    for (const t of metadata) counts[t.name] = t.partitions.length
    const distinct = new Set(Object.values(counts))
    if (distinct.size > 1) {
      const list = Object.entries(counts)
        .map(([t, n]) => `${t}=${n}`)
        .join(', ')
      throw new TopicLayoutError(
        ErrorCodes.PARTITION_COUNT_MISMATCH,
        `all input topics must have the same partition count (partition-wise join); found ${list}`,
        counts,
      )
    }
    const count = [...distinct][0] ?? 0
    const absent = partitions.filter((p) => p >= count)
    if (absent.length > 0) {
      throw new TopicLayoutError(
        ErrorCodes.PARTITION_NOT_FOUND,
        `partition${absent.length > 1 ? 's' : ''} ${absent.join(', ')} do${absent.length > 1 ? '' : 'es'} not exist: ` +
          `input topics ${topics.join(', ')} have ${count} partition${count === 1 ? '' : 's'}`,
        counts,
      )
    }
    return count
  } finally {
    await admin.disconnect()
  }
}

/** Checks that every topic exists; `role` names what they are for in the error ("dead-letter"). */
export async function checkTopicsExist(kafka: Kafka, topics: readonly string[], role: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await throwMissing(
      admin,
      topics,
      role,
      (them) => `: create ${them} before starting (kasper topics create, or your own tooling)`,
    )
  } finally {
    await admin.disconnect()
  }
}

/** TopicLayoutError KASPER_TOPIC_NOT_FOUND naming the topics of `role` that do not exist. */
async function throwMissing(
  admin: Admin,
  topics: readonly string[],
  role: string,
  advice: (them: 'it' | 'them') => string,
): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((t) => !existing.has(t))
  if (missing.length === 0) return
  const many = missing.length > 1
  throw new TopicLayoutError(
    ErrorCodes.TOPIC_NOT_FOUND,
    `${role} topic${many ? 's' : ''} ${missing.map((t) => `"${t}"`).join(', ')} do${many ? '' : 'es'} not exist${advice(many ? 'them' : 'it')}`,
  )
}
