import { OffsetOutOfRangeError } from '../errors.js'
import type { LogBounds, TopicPartitionOffset } from '../kafka/client.js'
import { tpKey } from '../kafka/topic-partitions.js'
import type { Logger } from '../logging/logger.js'

export interface StartOffsetPolicy {
  initialOffset: 'earliest' | 'latest'
  offsetReset: 'none' | 'earliest' | 'latest'
}

export interface StartOffset extends TopicPartitionOffset {
  source: 'committed' | 'initial' | 'reset'
}

/**
 * Where each topic-partition starts: the committed offset; with none, `initialOffset`; a committed
 * offset outside [log start, high-water mark] is an OffsetOutOfRangeError unless `offsetReset`
 * chooses a side (logged as a warning, since it skips or replays data).
 */
export function resolveStartOffsets(
  partitions: readonly { topic: string; partition: number }[],
  committed: ReadonlyMap<string, string>,
  bounds: ReadonlyMap<string, LogBounds>,
  policy: StartOffsetPolicy,
  logger: Logger,
): StartOffset[] {
  return partitions.map(({ topic, partition }) => {
    const key = tpKey(topic, partition)
    const bound = bounds.get(key)
    if (!bound) throw new Error(`no log bounds for ${topic}[${partition}]`)
    const offset = committed.get(key)
    if (offset === undefined) {
      const start = policy.initialOffset === 'earliest' ? bound.start : bound.end
      return { topic, partition, offset: start, source: 'initial' as const }
    }
    const value = BigInt(offset)
    if (value >= BigInt(bound.start) && value <= BigInt(bound.end)) {
      return { topic, partition, offset, source: 'committed' as const }
    }
    if (policy.offsetReset === 'none') {
      throw new OffsetOutOfRangeError(topic, partition, offset, bound.start, bound.end)
    }
    const reset = policy.offsetReset === 'earliest' ? bound.start : bound.end
    logger.warn(
      { topic, partition, committed: offset, logStart: bound.start, logEnd: bound.end, resetTo: reset },
      `committed offset is outside the log; resetting to ${policy.offsetReset} as offsetReset says`,
    )
    return { topic, partition, offset: reset, source: 'reset' as const }
  })
}
