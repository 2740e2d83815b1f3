/** Creates a job's missing topics (`kasper topics create`): the only place kasper-ts creates topics, on request. */
import { type Admin, type ITopicConfig, Kafka, type KafkaConfig, logLevel } from 'kafkajs'

export interface TopicSpec {
  topic: string
  partitions: number
  replicationFactor: number
}

/** Creates each topic that does not exist; resolves with the ones created and the ones already there. */
export async function createMissingTopics(
  config: KafkaConfig,
  specs: readonly TopicSpec[],
): Promise<{ created: string[]; existing: { topic: string; partitions: number }[] }> {
  const admin = new Kafka({ ...config, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const present = new Set(await admin.listTopics())
    const missing = specs.filter((s) => !present.has(s.topic))
    const there = specs.filter((s) => present.has(s.topic)).map((s) => s.topic)
    const { topics } = there.length > 0 ? await admin.fetchTopicMetadata({ topics: there }) : { topics: [] }
    if (missing.length > 0) {
      await createTopicsWithLeaders(
        admin,
        missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor })),
      )
    }
    return {
      created: missing.map((s) => s.topic),
      existing: topics.map((t) => ({ topic: t.name, partitions: t.partitions.length })),
    }
  } finally {
    await admin.disconnect()
  }
}

/**
 * Creates `topics` and resolves once every partition has a leader. kafkajs's own wait
 * (`waitForLeaders`) gives up with UNKNOWN_TOPIC_OR_PARTITION when the broker it asks does not
 * know the new topic yet (seen on a broker just started); then this keeps asking, up to `timeoutMs`.
 */
export async function createTopicsWithLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  try {
    await admin.createTopics({ waitForLeaders: true, topics })
    return
  } catch (error) {
    if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) })
      if (found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return
    } catch (error) {
      if (Date.now() >= deadline) throw error
    }
    if (Date.now() >= deadline)
      throw new Error(`topics ${topics.map((t) => t.topic).join(', ')} have no leaders after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
