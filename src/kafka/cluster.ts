/**
 * The one place that reaches under kafkajs's public API.
 *
 * kafkajs has no `assign()`: its consumer always joins a group, with eager rebalances and
 * heartbeats only between batches. Kasper's model is static assignment without membership, so we
 * use kafkajs's protocol layer (its Cluster and Broker classes) directly: Fetch, Produce, ListOffsets,
 * OffsetFetch and OffsetCommit (generation -1, empty member id: Kafka accepts commits from a
 * non-member into a group that has no members). kafkajs has had no release since 2.2.4, so this
 * layer does not move; integration tests cover every call used here. See docs/design.md.
 */
import type { Kafka } from 'kafkajs'
import { patchKafkajs } from './kafkajs-patches.js'

patchKafkajs()

export interface PartitionMetadata {
  partitionId: number
  leader: number
}

export interface KafkaBroker {
  /** Where kafkajs's Broker sends every request (produce-request.ts and fetch-request.ts send theirs through it). */
  connectionPool: { send(protocolRequest: unknown): Promise<unknown> }
  disconnect(): Promise<void>
  /** The request builder of an API at the version negotiated with this broker (kafkajs's own lookup). */
  lookupRequest(apiKey: number, definition: unknown): (args: Record<string, unknown>) => unknown
  offsetCommit(request: {
    groupId: string
    groupGenerationId: number
    memberId: string
    retentionTime?: number
    topics: { topic: string; partitions: { partition: number; offset: string; metadata?: string | null }[] }[]
  }): Promise<{ responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>
  offsetFetch(request: { groupId: string; topics: { topic: string; partitions: { partition: number }[] }[] }): Promise<{
    responses: {
      topic: string
      partitions: { partition: number; offset: string; metadata?: string | null; errorCode: number }[]
    }[]
  }>
}

export interface KafkaCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  refreshMetadata(): Promise<void>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  findTopicPartitionMetadata(topic: string): PartitionMetadata[]
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>
  findBroker(request: { nodeId: string }): Promise<KafkaBroker>
  /** coordinatorType 1: the transaction coordinator of a transactional id (kafkajs's COORDINATOR_TYPES). */
  findGroupCoordinator(request: { groupId: string; coordinatorType?: number }): Promise<KafkaBroker>
  removeBroker(request: { host: string; port: number }): void
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning?: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>
}

type CreateCluster = (options: {
  metadataMaxAge?: number
  allowAutoTopicCreation?: boolean
  isolationLevel?: number
}) => KafkaCluster

/** READ_COMMITTED: aborted transactional messages are never handed to process(). */
export const READ_COMMITTED = 1
/** READ_UNCOMMITTED: everything written, including open and aborted transactions' records. */
export const READ_UNCOMMITTED = 0

/**
 * Creates a protocol-level Cluster that shares the Kafka instance's configuration (brokers, TLS,
 * SASL, client id, retry). Throws when the instance is not a kafkajs 2.x Kafka.
 */
export function createCluster(kafka: Kafka): KafkaCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')
  const create = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol]
  if (typeof create !== 'function') {
    throw new TypeError('options.kafka must be a kafkajs 2.x Kafka instance (new Kafka({ brokers }))')
  }
  return (create as CreateCluster)({
    allowAutoTopicCreation: false,
    isolationLevel: READ_COMMITTED,
    metadataMaxAge: 60_000,
  })
}

/**
 * Sends a protocol request (built by us or by kafkajs) over a broker's connection, as kafkajs's
 * Broker does for its own: a connection the broker closed is dropped, so the next request reopens it.
 */
export async function sendRequest(broker: KafkaBroker, protocolRequest: unknown): Promise<unknown> {
  try {
    return await broker.connectionPool.send(protocolRequest)
  } catch (error) {
    if ((error as { name?: string } | null)?.name === 'KafkaJSConnectionClosedError') await broker.disconnect()
    throw error
  }
}

/** Groups topic-partitions by the node id of their leader in the cluster's metadata; those with no known leader apart. */
export function groupByLeader<T extends { topic: string; partition: number }>(
  cluster: KafkaCluster,
  items: readonly T[],
): { byLeader: Map<string, T[]>; leaderless: T[] } {
  const byLeader = new Map<string, T[]>()
  const leaderless: T[] = []
  for (const item of items) {
    const nodeId = Object.keys(cluster.findLeaderForPartitions(item.topic, [item.partition]))[0]
    if (nodeId === undefined) {
      leaderless.push(item)
      continue
    }
    const list = byLeader.get(nodeId)
    if (list) list.push(item)
    else byLeader.set(nodeId, [item])
  }
  return { byLeader, leaderless }
}

/** After a connection the broker closed, forget that broker so the next request reconnects (kafkajs keeps it otherwise). */
export function forgetClosedBroker(cluster: KafkaCluster, error: unknown): void {
  const e = error as { name?: string; host?: string; port?: number } | null
  if (e?.name === 'KafkaJSConnectionClosedError' && e.host && e.port)
    cluster.removeBroker({ host: e.host, port: e.port })
}
