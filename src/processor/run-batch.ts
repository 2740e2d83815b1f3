/**
 * The process stage of one batch: process() over the messages, or, under the dead-letter policy,
 * attempts over parts of them whose kept output is moved into the batch's sender. Errors are
 * thrown as they came (the TopicProcessor types them).
 */
import { ErrorCodes, KasperError } from '../errors.js'
import { BatchSender, type ProduceFn } from '../sender/sender.js'
import type { IncomingMessage, MessageProcessor, OutgoingMessage } from '../types.js'
import { runProcess } from './batch-steps.js'
import type { DeadLetterPolicy } from './dead-letters.js'

export interface ProcessStage {
  processor: MessageProcessor
  partition: number
  messages: readonly IncomingMessage[]
  sender: BatchSender
  timeoutMs: number
  deadLetters: DeadLetterPolicy | undefined
  /** What an attempt's sender.flush() produces through (and checks against). */
  produce: ProduceFn
  check: (message: OutgoingMessage) => void
  /** Exactly-once: an attempt's flush() waits for the batch's end (its output may be thrown away). */
  deferAttemptFlush: boolean
}

export async function runProcessStage(stage: ProcessStage): Promise<void> {
  const { processor, partition, messages, sender, timeoutMs, deadLetters } = stage
  if (!deadLetters) {
    await runProcess(processor, messages, sender, partition, timeoutMs)
    return
  }
  const output = await deadLetters.run(partition, messages, async (part) => {
    // each attempt collects its own output: only the parts that succeed are kept
    const attempt = new BatchSender(stage.produce, { check: stage.check, deferFlush: stage.deferAttemptFlush })
    try {
      await runProcess(processor, part, attempt, partition, timeoutMs)
    } finally {
      attempt.seal()
    }
    return attempt.take()
  })
  for (const message of output) sender.send(message)
}

/**
 * A fenced transactional writer under group assignment means another member took the partition: a
 * revocation (KASPER_ASSIGNMENT_LOST, the daemon rejoins). Otherwise it stays KASPER_PRODUCER_FENCED
 * (another instance runs on the partition). Other errors are returned as they are.
 */
export function fencedAsRevocation(error: unknown, groupAssignment: boolean): unknown {
  if (!KasperError.is(error, ErrorCodes.PRODUCER_FENCED) || !groupAssignment) return error
  return new KasperError(ErrorCodes.ASSIGNMENT_LOST, `${(error as Error).message} (group assignment: a revocation)`, {
    cause: error,
    retriable: true,
  })
}
