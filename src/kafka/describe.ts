/**
 * Where a job stands in Kafka, without joining anything: per input topic-partition, the group's
 * committed offset, the log's end offset, the lag, and the instance that last committed (the
 * metadata kasper-ts writes with each commit). Read by `kasper describe`.
 */
import { AssignerProtocol, Kafka, type KafkaConfig, logLevel } from 'kafkajs'
import { createCluster } from './cluster.js'
import { fetchLogBounds, GroupOffsets } from './offsets.js'
import { topicPartitions, tpKey } from './topic-partitions.js'

export interface PartitionState {
  topic: string
  partition: number
  /** Next offset to process, or null when the group never committed here. */
  committed: string | null
  logStart: string
  end: string
  /** end - committed (end - log start when nothing is committed). */
  lag: string
  /** The instance that wrote the last commit (`host/pid/id`), when kasper-ts wrote it. */
  lastCommitter: string | null
}

export async function describeOffsets(
  config: KafkaConfig,
  groupId: string,
  topics: readonly string[],
  partitions: readonly number[],
): Promise<PartitionState[]> {
  const kafka = new Kafka({ ...config, logLevel: logLevel.NOTHING })
  const cluster = createCluster(kafka)
  await cluster.connect()
  try {
    await cluster.addMultipleTargetTopics([...topics])
    const all = topicPartitions(topics, partitions)
    const [committed, bounds] = await Promise.all([
      new GroupOffsets(cluster, groupId, 10_000).fetchCommittedWithMetadata(all),
      fetchLogBounds(cluster, all),
    ])
    return all.map(({ topic, partition }) => {
      const key = tpKey(topic, partition)
      const c = committed.get(key)
      const b = bounds.get(key) ?? { start: '0', end: '0' }
      const from = BigInt(c?.offset ?? b.start)
      const lag = BigInt(b.end) - from
      const metadata = c?.metadata ?? null
      return {
        topic,
        partition,
        committed: c?.offset ?? null,
        logStart: b.start,
        end: b.end,
        lag: (lag > 0n ? lag : 0n).toString(),
        lastCommitter: metadata?.startsWith('kasper-ts:') ? metadata.slice('kasper-ts:'.length) : metadata,
      }
    })
  } finally {
    await cluster.disconnect().catch(() => {})
  }
}

export interface GroupMembers {
  /** The group's state: Empty under static assignment (no members), Stable, PreparingRebalance... */
  state: string
  /** The assignment protocol (kasper-cooperative under group assignment), or empty. */
  protocol: string
  members: { memberId: string; clientId: string; clientHost: string; partitions: number[] }[]
}

/**
 * The job's group members and what each was assigned (group assignment); a static member's id
 * starts with its group.instance.id. Empty under static assignment.
 */
export async function describeMembers(config: KafkaConfig, groupId: string): Promise<GroupMembers> {
  const admin = new Kafka({ ...config, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const { groups } = await admin.describeGroups([groupId])
    const group = groups[0]
    return {
      state: group?.state ?? 'Unknown',
      protocol: group?.protocol ?? '',
      members: (group?.members ?? []).map((m) => {
        let partitions: number[] = []
        try {
          const decoded =
            m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null
          partitions = [...(Object.values(decoded?.assignment ?? {})[0] ?? [])].sort((a, b) => a - b)
        } catch {
          // another protocol's assignment: nothing of ours to show
        }
        return { memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, partitions }
      }),
    }
  } finally {
    await admin.disconnect().catch(() => {})
  }
}
