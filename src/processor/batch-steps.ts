/** Pure pieces of one batch's life, kept apart from the loop: where a batch sits, running process() with a time limit, and the overlap rule. */
import { withDeadline } from '../deadline.js'
import { ErrorCodes, KasperError, PartitionOverlapError } from '../errors.js'
import type { CommittedOffset } from '../kafka/client.js'
import { parseTpKey } from '../kafka/topic-partitions.js'
import type { IncomingMessage, MessageProcessor, Sender } from '../types.js'

/** First and last offset per topic of a batch. */
export function batchPosition(partition: number, messages: readonly IncomingMessage[]) {
  const offsets: Record<string, { first: string; last: string }> = {}
  for (const m of messages) {
    const o = offsets[m.topic]
    if (o) o.last = m.offset
    else offsets[m.topic] = { first: m.offset, last: m.offset }
  }
  return { partition, offsets }
}

/**
 * Calls process() with an AbortSignal; with a time limit, rejects with KASPER_PROCESS_TIMEOUT and
 * aborts the signal when it is exceeded (the call itself cannot be cancelled, only told).
 */
export async function runProcess(
  processor: MessageProcessor,
  messages: readonly IncomingMessage[],
  sender: Sender,
  partition: number,
  timeoutMs: number | undefined,
): Promise<void> {
  const controller = new AbortController()
  if (timeoutMs === undefined) {
    await processor.process(messages, sender, { partition, signal: controller.signal })
    return
  }
  await withDeadline(
    Promise.resolve(processor.process(messages, sender, { partition, signal: controller.signal })),
    timeoutMs,
    () => {
      controller.abort(new KasperError(ErrorCodes.PROCESS_TIMEOUT, 'process() timed out'))
      return controller.signal.reason
    },
  )
}

/**
 * Another live instance of this name on our partitions shows up as a commit we did not write:
 * foreign metadata after our own first commit there, or, before it, a foreign commit that moved
 * the offset away from where we started.
 */
export function findOverlap(
  ours: ReadonlyMap<string, string>,
  committedByUs: ReadonlySet<string>,
  found: ReadonlyMap<string, CommittedOffset>,
  ourMetadata: string,
): PartitionOverlapError | undefined {
  for (const [key, offset] of ours) {
    const theirs = found.get(key)
    if (!theirs || theirs.metadata === ourMetadata) continue
    if (committedByUs.has(key) || theirs.offset !== offset) {
      const { topic, partition } = parseTpKey(key)
      return new PartitionOverlapError(topic, partition, theirs.metadata, offset, theirs.offset)
    }
  }
  return undefined
}

/**
 * Under group assignment a foreign commit on this member's partition is another member's: the group
 * gave the partition away (a rebalance this member has not heard of yet, as after a network cut).
 * That is a revocation (the daemon rejoins), not two deployments on one partition range.
 */
export function assignmentLostTo(overlap: PartitionOverlapError): KasperError {
  return new KasperError(
    ErrorCodes.ASSIGNMENT_LOST,
    `${overlap.topic}[${overlap.partition}] was committed by another member of the group (${overlap.otherInstance ?? 'unknown'}, offset ${overlap.committedOffset}): this member's assignment is over`,
    { cause: overlap, retriable: true },
  )
}
