/** A TopicProcessor's record of progress: committed positions, lag gauges, the periodic progress line and liveness. */
import type { TopicPartitionOffset } from '../kafka/client.js'
import { tpKey } from '../kafka/topic-partitions.js'
import type { Logger } from '../logging/logger.js'
import { lagByPartition, totalLag } from './lag.js'
import type { ProcessorMetrics } from './processor-metrics.js'
import type { Session } from './session.js'

export class ProgressTracker {
  /** When a batch last completed (committed), or the loop last found nothing to do. */
  lastProgressAt = Date.now()
  /** Work since the last progress line. */
  #sinceLastLine = { batches: 0, messagesIn: 0, messagesOut: 0, since: Date.now() }

  constructor(
    private readonly metrics: ProcessorMetrics,
    private readonly logger: Logger,
  ) {}

  /** A batch's offsets are committed: they are the session's positions now. */
  committed(session: Session, next: readonly TopicPartitionOffset[], messagesIn: number, messagesOut: number): void {
    this.lastProgressAt = Date.now()
    this.#sinceLastLine.batches++
    this.#sinceLastLine.messagesIn += messagesIn
    this.#sinceLastLine.messagesOut += messagesOut
    for (const { topic, partition, offset } of next) {
      session.committed.set(tpKey(topic, partition), offset)
      session.committedByUs.add(tpKey(topic, partition))
      this.metrics.committedOffset.set({ topic, partition }, Number(offset))
    }
  }

  /** One info line: what was committed since the last line, and the lag now. */
  logLine(session: Session): void {
    const { batches, messagesIn, messagesOut, since } = this.#sinceLastLine
    const lag = totalLag(session.committed, session.highWatermarks)
    const seconds = Math.round((Date.now() - since) / 1000)
    this.logger.info({ batches, messagesIn, messagesOut, lag, seconds }, 'progress')
    this.#sinceLastLine = { batches: 0, messagesIn: 0, messagesOut: 0, since: Date.now() }
  }

  updateLag(session: Session): void {
    for (const { topic, partition, lag } of lagByPartition(session.committed, session.highWatermarks)) {
      this.metrics.lag.set({ topic, partition }, lag)
    }
  }
}
