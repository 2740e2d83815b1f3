/**
 * Every error kasper-ts throws is a KasperError with a stable `code` (`KASPER_*`), a `retriable`
 * flag and, where there is one, the underlying `cause`. Codes never change meaning between
 * releases; match on `code` (or `KasperError.is(err, code)`), not on messages.
 */

export const ErrorCodes = {
  CONFIG_INVALID: 'KASPER_CONFIG_INVALID',
  PROCESSOR_MISSING: 'KASPER_PROCESSOR_MISSING',
  TOPIC_NOT_FOUND: 'KASPER_TOPIC_NOT_FOUND',
  PARTITION_COUNT_MISMATCH: 'KASPER_PARTITION_COUNT_MISMATCH',
  PARTITION_NOT_FOUND: 'KASPER_PARTITION_NOT_FOUND',
  OFFSET_OUT_OF_RANGE: 'KASPER_OFFSET_OUT_OF_RANGE',
  FETCH_FAILED: 'KASPER_FETCH_FAILED',
  CONNECT_FAILED: 'KASPER_CONNECT_FAILED',
  PROCESS_FAILED: 'KASPER_PROCESS_FAILED',
  PROCESS_TIMEOUT: 'KASPER_PROCESS_TIMEOUT',
  DEAD_LETTER_BREAKER: 'KASPER_DEAD_LETTER_BREAKER',
  PRODUCER_FENCED: 'KASPER_PRODUCER_FENCED',
  PRODUCE_FAILED: 'KASPER_PRODUCE_FAILED',
  COMMIT_FAILED: 'KASPER_COMMIT_FAILED',
  ALREADY_RUNNING: 'KASPER_ALREADY_RUNNING',
  CLOSED: 'KASPER_CLOSED',
  STORE_FAILED: 'KASPER_STORE_FAILED',
  PARTITION_OVERLAP: 'KASPER_PARTITION_OVERLAP',
  JOB_INVALID: 'KASPER_JOB_INVALID',
  SLICE_STALLED: 'KASPER_SLICE_STALLED',
  OUTPUT_INVALID: 'KASPER_OUTPUT_INVALID',
  OUTPUT_TOPIC_NOT_FOUND: 'KASPER_OUTPUT_TOPIC_NOT_FOUND',
  OUTPUT_PARTITION_NOT_FOUND: 'KASPER_OUTPUT_PARTITION_NOT_FOUND',
  MESSAGE_TOO_LARGE: 'KASPER_MESSAGE_TOO_LARGE',
  SEND_AFTER_BATCH: 'KASPER_SEND_AFTER_BATCH',
  JOB_ACTIVE: 'KASPER_JOB_ACTIVE',
  ASSIGNMENT_LOST: 'KASPER_ASSIGNMENT_LOST',
  ASSIGNMENT_CONFLICT: 'KASPER_ASSIGNMENT_CONFLICT',
  GROUP_JOIN_FAILED: 'KASPER_GROUP_JOIN_FAILED',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

const BRAND = Symbol.for('kasper-ts.error')

export interface KasperErrorOptions {
  cause?: unknown
  retriable?: boolean
}

export class KasperError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly [BRAND] = true

  constructor(code: ErrorCode, message: string, options: KasperErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
  }

  /** True for any kasper-ts error (by brand, so it works across copies of the package). */
  static isKasperError(value: unknown): value is KasperError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  static is(value: unknown, code: ErrorCode): value is KasperError {
    return KasperError.isKasperError(value) && value.code === code
  }
}

/** One problem found in a configuration, with the path of the field. */
export interface ConfigIssue {
  field: string
  message: string
}

/** Invalid options: names every field that is wrong. Thrown at construction, before any I/O. */
export class ConfigError extends KasperError {
  static readonly code = ErrorCodes.CONFIG_INVALID
  readonly component: string
  readonly issues: readonly ConfigIssue[]

  constructor(component: string, issues: readonly ConfigIssue[]) {
    const list = issues.map((i) => `${i.field}: ${i.message}`).join('; ')
    super(ErrorCodes.CONFIG_INVALID, `invalid ${component} options: ${list}`)
    this.component = component
    this.issues = issues
  }
}

/** A partition has no MessageProcessor (the map lacks it, or the factory returned nothing). */
export class ProcessorMissingError extends KasperError {
  static readonly code = ErrorCodes.PROCESSOR_MISSING
  constructor(
    readonly partition: number,
    cause?: unknown,
  ) {
    // a factory that threw (a store it opens was down) may succeed on a retry; one that returned nothing will not
    super(
      ErrorCodes.PROCESSOR_MISSING,
      cause === undefined
        ? `no MessageProcessor for partition ${partition}`
        : `creating the MessageProcessor for partition ${partition} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, retriable: cause !== undefined },
    )
  }
}

/** The input topics do not fit the configuration: a topic is missing, counts differ, a partition is absent. */
export class TopicLayoutError extends KasperError {
  readonly topics: Readonly<Record<string, number>>
  constructor(
    code:
      | typeof ErrorCodes.TOPIC_NOT_FOUND
      | typeof ErrorCodes.PARTITION_COUNT_MISMATCH
      | typeof ErrorCodes.PARTITION_NOT_FOUND,
    message: string,
    topics: Readonly<Record<string, number>> = {},
  ) {
    super(code, message)
    this.topics = topics
  }
}

/** Where in the input a batch sits: the partition and, per topic, the first and last offsets. */
export interface BatchPosition {
  partition: number
  offsets: Readonly<Record<string, { first: string; last: string }>>
}

/** Codes of output that cannot be produced as given: no retry cures them. */
export type OutputErrorCode =
  | typeof ErrorCodes.OUTPUT_INVALID
  | typeof ErrorCodes.OUTPUT_TOPIC_NOT_FOUND
  | typeof ErrorCodes.OUTPUT_PARTITION_NOT_FOUND
  | typeof ErrorCodes.MESSAGE_TOO_LARGE
  | typeof ErrorCodes.SEND_AFTER_BATCH

/**
 * Output that cannot reach Kafka as given: a malformed message, a topic or partition that does not
 * exist, a message over the topic's size limit, a send() after its batch ended. Thrown by send()
 * where it can be known there, else by the produce; the batch fails and nothing of it is committed.
 */
export class OutputError extends KasperError {
  constructor(
    code: OutputErrorCode,
    message: string,
    readonly topic?: string,
    readonly partition?: number,
  ) {
    super(code, message)
  }
}

/** A batch failed (process, timeout, produce or commit). Nothing of the batch was committed. */
export class BatchError extends KasperError {
  readonly partition: number
  readonly offsets: BatchPosition['offsets']

  constructor(
    code:
      | typeof ErrorCodes.PROCESS_FAILED
      | typeof ErrorCodes.PROCESS_TIMEOUT
      | typeof ErrorCodes.PRODUCE_FAILED
      | typeof ErrorCodes.COMMIT_FAILED
      | OutputErrorCode,
    what: string,
    position: BatchPosition,
    cause?: unknown,
    /** Whether a replay can succeed, when the caller knows better than the code alone (see batchRetriable). */
    retriable?: boolean,
  ) {
    const where = Object.entries(position.offsets)
      .map(([topic, o]) => `${topic}[${position.partition}]@${o.first}..${o.last}`)
      .join(', ')
    const reason = cause instanceof Error ? `: ${cause.message}` : cause === undefined ? '' : `: ${String(cause)}`
    super(code, `${what} for partition ${position.partition} (${where})${reason}`, {
      cause,
      retriable: retriable ?? batchRetriable(code, cause),
    })
    this.partition = position.partition
    this.offsets = position.offsets
  }
}

/**
 * Whether replaying a failed batch can succeed: process() failures and time-outs may (the replay
 * runs the same code on a new attempt, within the supervisor's restart budget); a produce or commit
 * failure may when its cause says so (the TopicProcessor decides with src/kafka's mayRecover, which
 * knows the client's errors); output that cannot be produced as given never does.
 */
function batchRetriable(code: string, cause: unknown): boolean {
  if (code === ErrorCodes.PROCESS_FAILED || code === ErrorCodes.PROCESS_TIMEOUT) return true
  if (code === ErrorCodes.PRODUCE_FAILED || code === ErrorCodes.COMMIT_FAILED) {
    return (cause as { retriable?: unknown } | null)?.retriable !== false
  }
  return false
}

/** A committed offset lies outside the log, and no reset policy was chosen. */
export class OffsetOutOfRangeError extends KasperError {
  static readonly code = ErrorCodes.OFFSET_OUT_OF_RANGE
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly logStart: string,
    readonly logEnd: string,
  ) {
    super(
      ErrorCodes.OFFSET_OUT_OF_RANGE,
      `offset ${offset} of ${topic}[${partition}] is outside the log [${logStart}, ${logEnd}]; ` +
        `set offsetReset to 'earliest' or 'latest' to skip explicitly`,
    )
  }
}

/** Another live processor of the same name commits offsets for a partition this one reads. */
export class PartitionOverlapError extends KasperError {
  static readonly code = ErrorCodes.PARTITION_OVERLAP
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly otherInstance: string | null,
    readonly expectedOffset: string,
    readonly committedOffset: string,
  ) {
    super(
      ErrorCodes.PARTITION_OVERLAP,
      `${topic}[${partition}] is also processed by another instance (${otherInstance ?? 'unknown'}): ` +
        `the group's offset is ${committedOffset}, this instance committed ${expectedOffset}. ` +
        'Two processors of one name must read disjoint partitions',
    )
  }
}

/** Reading from Kafka failed in a way retries did not cure. */
export class FetchError extends KasperError {
  static readonly code = ErrorCodes.FETCH_FAILED
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.FETCH_FAILED, message, { cause, retriable: true })
  }
}

/** A store (Redis, memory) operation failed. The batch that used it must fail and be replayed. */
export class StoreError extends KasperError {
  static readonly code = ErrorCodes.STORE_FAILED
  constructor(
    readonly operation: string,
    message: string,
    cause?: unknown,
  ) {
    super(ErrorCodes.STORE_FAILED, `store ${operation} failed: ${message}`, { cause, retriable: true })
  }
}

/** Serialises an error (with its cause chain) so it can cross a thread boundary. */
export interface SerializedError {
  name: string
  message: string
  code?: string
  /** A KasperError's `retriable` flag: false means no restart can help. */
  retriable?: boolean
  stack?: string
  cause?: SerializedError
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) }
  const out: SerializedError = { name: error.name, message: error.message }
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') out.code = code
  if (KasperError.isKasperError(error)) out.retriable = error.retriable
  if (error.stack) out.stack = error.stack
  if (error.cause !== undefined && depth < 5) out.cause = serializeError(error.cause, depth + 1)
  return out
}
