/**
 * How a failed stage of one batch is typed: every failure is a BatchError naming the stage and the
 * batch's position, except those that say who owns the partition (a membership refusal, a fenced
 * transactional writer), which keep their own code: the supervisor rejoins on one, halts on others.
 */
import { BatchError, ErrorCodes, KasperError, OutputError, type OutputErrorCode } from '../errors.js'
import { mayRecover } from '../kafka/client.js'
import type { batchPosition } from './batch-steps.js'
import type { ProcessorMetrics } from './processor-metrics.js'
import { fencedAsRevocation } from './run-batch.js'

export type StageFailure = (
  stage: 'process' | 'timeout' | 'produce' | 'commit',
  code: ConstructorParameters<typeof BatchError>[0],
  what: string,
  cause: unknown,
) => BatchError

/** The failure maker of one batch: counts the failure by stage and types it. */
export function batchFailure(metrics: ProcessorMetrics, position: ReturnType<typeof batchPosition>): StageFailure {
  return (stage, code, what, cause) => {
    metrics.batchFailures.inc({ partition: position.partition, stage })
    // a produce or commit that failed on a connection (even wrapped by the client's retrier) may pass
    const transient = stage === 'produce' || stage === 'commit' ? mayRecover(cause) : undefined
    return new BatchError(code, what, position, cause, transient)
  }
}

/** process() (or its dead-letter attempts) failed. */
export function processStageError(
  error: unknown,
  fail: StageFailure,
  group: boolean,
  processTimeoutMs: number | undefined,
): unknown {
  if (KasperError.is(error, ErrorCodes.DEAD_LETTER_BREAKER)) return error
  if (KasperError.is(error, ErrorCodes.PRODUCER_FENCED)) return fencedAsRevocation(error, group)
  if (error instanceof OutputError) return fail('process', error.code as OutputErrorCode, 'output rejected', error)
  if (KasperError.is(error, ErrorCodes.PROCESS_TIMEOUT)) {
    const what = `process() exceeded processTimeoutMs (${processTimeoutMs} ms)`
    return fail('timeout', ErrorCodes.PROCESS_TIMEOUT, what, undefined)
  }
  return fail('process', ErrorCodes.PROCESS_FAILED, 'process() failed', error)
}

/** Producing the batch's output failed. */
export function produceStageError(error: unknown, fail: StageFailure, group: boolean): unknown {
  if (KasperError.is(error, ErrorCodes.PRODUCER_FENCED)) return fencedAsRevocation(error, group)
  if (error instanceof OutputError) return fail('produce', error.code as OutputErrorCode, 'output rejected', error)
  return fail('produce', ErrorCodes.PRODUCE_FAILED, 'producing the batch output failed', error)
}

/** Committing the batch's offsets failed. */
export function commitStageError(error: unknown, fail: StageFailure): unknown {
  const membership =
    KasperError.is(error, ErrorCodes.ASSIGNMENT_LOST) ||
    KasperError.is(error, ErrorCodes.ASSIGNMENT_CONFLICT) ||
    KasperError.is(error, ErrorCodes.PRODUCER_FENCED)
  return membership ? error : fail('commit', ErrorCodes.COMMIT_FAILED, 'committing the batch offsets failed', error)
}
