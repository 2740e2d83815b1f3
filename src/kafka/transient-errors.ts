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

/**
 * Whether a client error may go away on a retry: true when it, or an error it wraps (kafkajs wraps
 * a connection failure in KafkaJSNumberOfRetriesExceeded, itself marked non-retriable), is a
 * connection-level failure; otherwise the client's own `retriable` flag (false for a refusal such
 * as a failed authentication).
 */
export function mayRecover(error: unknown): boolean {
  let link: unknown = error
  for (let depth = 0; link && depth < 6; depth++) {
    const e = link as { name?: string; cause?: unknown; originalError?: unknown }
    if (e.name !== undefined && CONNECTION_ERRORS.has(e.name)) return true
    link = e.cause ?? e.originalError
  }
  return (error as { retriable?: unknown } | null)?.retriable !== false
}
