/**
 * kafkajs errors that a broker restart, a leader move or a coordinator move produce: worth
 * retrying for a while. A refusal (a group with members, an authorization error) is not.
 */
const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSLockTimeout',
])

/** Protocol error types after which metadata must be refreshed (fetching). */
export const STALE_METADATA = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'REPLICA_NOT_AVAILABLE',
])

/** Protocol error types of a group coordinator that moved or is loading (offsets). */
export const COORDINATOR_MOVED = new Set([
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
])

/** True for a connection-level failure, or a protocol error whose type is in `types`. */
export function isTransient(error: unknown, types: ReadonlySet<string>): boolean {
  const e = error as { type?: string; name?: string } | null
  return (e?.type !== undefined && types.has(e.type)) || (e?.name !== undefined && CONNECTION_ERRORS.has(e.name))
}
