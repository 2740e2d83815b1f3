/** Creates a job's missing topics (`kasper topics create`): the only place kasper-ts creates topics, on request. */
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs'

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
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
        })),
      })
    }
    return {
      created: missing.map((s) => s.topic),
      existing: topics.map((t) => ({ topic: t.name, partitions: t.partitions.length })),
    }
  } finally {
    await admin.disconnect()
  }
}
