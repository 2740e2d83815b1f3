/**
 * Group assignment inside one daemon: its slices follow each generation's share without stopping
 * what stays. A partition stays in its slice while it stays with the daemon (resliceSticky); each
 * running slice gets the new generation and its new partition list in one message (its processor
 * releases what went, after committing it, and starts what came); a slice left with nothing stops;
 * an idle slice index with partitions again gets a new worker.
 */
import type { GroupGeneration } from '../src/kafka/group-member.js'
import type { Logger } from '../src/logging/logger.js'
import { stopWithin } from './slice.js'
import { resliceSticky } from './slicing.js'
import type { SliceState } from './supervisor-types.js'

/** A slice's state before its first worker. */
export function newSliceState(
  index: number,
  partitions: number[],
  generation?: { generationId: number; memberId: string },
): SliceState {
  return {
    index,
    partitions,
    current: undefined,
    started: false,
    launchedAt: Date.now(),
    progress: undefined,
    stalled: false,
    restartTimes: [],
    restartTimer: undefined,
    ...(generation ? { generation } : {}),
  }
}

export interface MoveSlices {
  workers: number
  shutdownTimeoutMs: number
  /** Starts a worker for a slice (its partitions and generation are in the state). */
  launch: (state: SliceState) => void
  logger: Logger
}

/**
 * Moves `slices` (grown to `workers` entries, some possibly empty) to `generation`'s partitions;
 * resolves once every running slice applied it. A slice that fails meanwhile reports it as usual.
 */
export async function moveSlices(slices: SliceState[], generation: GroupGeneration, how: MoveSlices): Promise<void> {
  const next = resliceSticky(
    slices.map((s) => s.partitions),
    generation.partitions,
    how.workers,
  )
  const memberGeneration = { generationId: generation.generationId, memberId: generation.memberId }
  while (slices.length < next.length) slices.push(newSliceState(slices.length, []))
  await Promise.all(
    next.map(async (partitions, index) => {
      const state = slices[index] as SliceState
      const before = state.partitions
      state.generation = memberGeneration
      state.partitions = partitions
      const slice = state.current
      if (slice && partitions.length === 0) {
        // released under the new generation first (its last commits carry it), then the worker stops
        await slice.reassign(memberGeneration, []).catch(() => undefined)
        how.logger.info({ slice: index, released: before }, 'slice has no partitions left: stopping it')
        await stopWithin([state], how.shutdownTimeoutMs, how.logger)
      } else if (slice) {
        const moved = await slice.reassign(memberGeneration, partitions).catch(() => undefined)
        if (moved && (moved.released.length > 0 || moved.added.length > 0)) {
          how.logger.info({ slice: index, partitions, ...moved }, 'slice reassigned')
        }
      } else if (partitions.length > 0 && state.restartTimer === undefined) {
        how.launch(state)
      }
      // a slice waiting for its restart starts with the new partitions and generation
    }),
  )
}
