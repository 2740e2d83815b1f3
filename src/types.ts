/** A message read from an input topic-partition. Offsets are decimal strings (Kafka offsets are int64). */
export interface IncomingMessage {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly timestamp: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, Buffer | string | undefined>>
}

/** A message to produce. `partition`, when given, is honoured; otherwise kafkajs's default partitioner picks by key. */
export interface OutgoingMessage {
  topic: string
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: Record<string, Buffer | string>
  partition?: number
  timestamp?: string
}

/** Collects output for the current batch; the TopicProcessor produces it (acks from all in-sync replicas) before committing. */
export interface Sender {
  /** Queues a message; no I/O. */
  send(message: OutgoingMessage): void
  /** Produces everything queued so far and waits for acks. Use it when an action must follow the produce. */
  flush(): Promise<void>
  /** Messages queued and not yet produced. */
  readonly pending: number
}

/** What `process` learns about its batch besides the messages. */
export interface BatchContext {
  readonly partition: number
  /** Aborted when the batch times out (processTimeoutMs) or the processor stops hard. */
  readonly signal: AbortSignal
}

/**
 * User code. Receives every message of one partition of every input topic (partition-wise join),
 * order kept within each topic-partition. Throwing stops the TopicProcessor; nothing of the batch is
 * committed, so it is replayed on the next start: processing must be idempotent.
 * Do not keep references to `messages` or `sender` after the call returns.
 */
export interface MessageProcessor {
  process(messages: readonly IncomingMessage[], sender: Sender, context: BatchContext): Promise<void> | void
}

/** A MessageProcessor per partition: a map, or a function of the partition (one instance may serve several). */
export type MessageProcessors =
  | ReadonlyMap<number, MessageProcessor>
  | ((partition: number) => MessageProcessor | Promise<MessageProcessor>)
