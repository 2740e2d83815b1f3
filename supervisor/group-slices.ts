/**
 * Group assignment inside one daemon: its slices follow each generation's share without stopping
 * what stays. Every one of the daemon's `workers` threads starts when the daemon does, before the
 * member joins (idle, with no partitions): partitions that come find a warm worker, its thread
 * started, the job loaded and Kafka connected. A partition stays in its slice while it stays with
 * the daemon (resliceSticky); each slice gets the new generation and its new partition list in one
 * message (its processor releases what went, after committing it, and starts what came); a slice
 * left with nothing idles.
 */
import type { GroupGeneration } from '../src/kafka/group-member.js'
import type { Logger } from '../src/logging/logger.js'
import { resliceSticky } from './slicing.js'
import type { SliceState } from './supervisor-types.js'

/** The generation of a worker started before its member joined (it holds no partitions until then). */
export const NOT_JOINED = { generationId: -1, memberId: '' } as const

/** A slice's state before its first worker. */
export function newSliceState(
  index: number,
  partitions: number[],
  generation?: { readonly generationId: number; readonly memberId: string },
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
    ...(generation ? { generation: { ...generation } } : {}),
  }
}

export interface MoveSlices {
  workers: number
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
  while (slices.length < next.length) slices.push(newSliceState(slices.length, [], NOT_JOINED))
  await Promise.all(
    next.map(async (partitions, index) => {
      const state = slices[index] as SliceState
      state.generation = memberGeneration
      state.partitions = partitions
      const slice = state.current
      if (slice) {
        // a slice left with nothing keeps its worker, idle and ready for the partitions of a later generation
        const moved = await slice.reassign(memberGeneration, partitions).catch(() => undefined)
        if (moved && (moved.released.length > 0 || moved.added.length > 0)) {
          how.logger.info({ slice: index, partitions, ...moved }, 'slice reassigned')
        }
      } else if (state.restartTimer === undefined) {
        how.launch(state)
      }
      // a slice waiting for its restart starts with the new partitions and generation
    }),
  )
}
