/**
 * The TopicProcessor's fetcher: reads from the partition leaders into the per-partition buffers
 * while the main loop processes batches. It reads only partitions whose buffer has room
 * (back-pressure), and wakes the main loop when data arrives or when it fails.
 */
import { FetchError, KasperError } from '../errors.js'
import { type ClientConnection, FetchOffsetOutOfRange, type InputReader } from '../kafka/client.js'
import { type TopicPartition, tpKey } from '../kafka/topic-partitions.js'
import type { Logger } from '../logging/logger.js'
import type { ResolvedTopicProcessorOptions } from './options.js'
import type { Notifier, PartitionBuffers } from './partition-buffers.js'
import type { ProcessorMetrics } from './processor-metrics.js'
import { resolveStartOffsets } from './start-offsets.js'

export interface FetchLoopContext {
  options: ResolvedTopicProcessorOptions
  logger: Logger
  session: {
    connection: ClientConnection
    reader: InputReader
    partitions: readonly TopicPartition[]
    highWatermarks: Map<string, string>
  }
  buffers: PartitionBuffers
  metrics: ProcessorMetrics
  spaceFreed: Notifier
  dataReady: Notifier
  stopping: () => boolean
  /** Records the fetcher's fatal error (the main loop throws it). */
  fail: (error: KasperError) => void
}

/** Runs until `stopping()`, or until a failure no retry cures (then `fail`, and returns). */
export async function runFetchLoop(ctx: FetchLoopContext): Promise<void> {
  const { session, buffers, options } = ctx
  while (!ctx.stopping()) {
    const wanted = session.partitions.filter(
      ({ partition }) => buffers.size(partition) < options.maxBufferedMessagesPerPartition,
    )
    if (wanted.length === 0) {
      await ctx.spaceFreed.wait(1000)
      continue
    }
    try {
      const fetched = await session.reader.fetch(wanted)
      const now = Date.now()
      for (const { topic, partition, messages, highWatermark } of fetched) {
        session.highWatermarks.set(tpKey(topic, partition), highWatermark)
        if (messages.length === 0) continue
        ctx.metrics.incoming.inc({ topic, partition }, messages.length)
        buffers.push(partition, messages, now)
      }
      if (fetched.length > 0) ctx.dataReady.notify()
    } catch (error) {
      try {
        if (error instanceof FetchOffsetOutOfRange) {
          await resetOutOfRange(ctx, error)
          continue
        }
        throw error
      } catch (fatal) {
        ctx.fail(
          KasperError.isKasperError(fatal)
            ? fatal
            : new FetchError(
                `reading ${options.inputTopics.join(', ')} failed: ${(fatal as Error)?.message ?? String(fatal)}`,
                fatal,
              ),
        )
        ctx.dataReady.notify()
        return
      }
    }
  }
}

/**
 * A fetch offset fell out of the log while running (retention overtook a lagging processor):
 * seek where offsetReset says, or throw OffsetOutOfRangeError when it says 'none'.
 */
async function resetOutOfRange(ctx: FetchLoopContext, error: FetchOffsetOutOfRange): Promise<void> {
  const { topic, partition, offset } = error
  const key = tpKey(topic, partition)
  const bounds = (await ctx.session.connection.logBounds([{ topic, partition }])).get(key)
  if (!bounds) throw error
  const [start] = resolveStartOffsets(
    [{ topic, partition }],
    new Map([[key, offset]]),
    new Map([[key, bounds]]),
    ctx.options,
    ctx.logger,
  )
  if (!start || start.offset === offset) throw error
  ctx.session.reader.seek(topic, partition, start.offset)
}
