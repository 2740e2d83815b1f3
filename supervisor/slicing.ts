import { ConfigError } from '../src/errors.js'

/**
 * Splits a job's partitions into disjoint, contiguous, balanced slices: sizes differ by at most one,
 * every partition is in exactly one slice, order is kept. With more workers than partitions, only
 * `partitions.length` slices are made (one partition each) and `idleWorkers` says how many were not
 * started: an explicit choice the supervisor logs, since an empty slice could do no work.
 */
export interface Slicing {
  slices: number[][]
  idleWorkers: number
}

export function slicePartitions(partitions: readonly number[], workers: number): Slicing {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a positive integer, got ${workers}`)
  if (new Set(partitions).size !== partitions.length) throw new RangeError('partitions must not repeat')
  const count = Math.min(workers, partitions.length)
  const slices: number[][] = []
  const base = Math.floor(partitions.length / Math.max(count, 1))
  let extra = partitions.length % Math.max(count, 1)
  let at = 0
  for (let i = 0; i < count; i++) {
    const size = base + (extra > 0 ? 1 : 0)
    if (extra > 0) extra--
    slices.push(partitions.slice(at, at + size))
    at += size
  }
  return { slices, idleWorkers: workers - count }
}

/**
 * Group assignment: the daemon's slices for a new generation's `assigned` partitions, as a change of
 * `current` (slice i's partitions; a slice may be empty). A partition stays in its slice while it
 * stays with this daemon, so it runs on without a pause; new partitions go to the smallest slices
 * (lowest index first), in contiguous runs; `workers` slices, of which those left with nothing are
 * empty (their workers idle). From no slices this cuts what slicePartitions would.
 */
export function resliceSticky(
  current: readonly (readonly number[])[],
  assigned: readonly number[],
  workers: number,
): number[][] {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a positive integer, got ${workers}`)
  const wanted = new Set(assigned)
  const kept = Array.from({ length: workers }, (_, i) => (current[i] ?? []).filter((p) => wanted.has(p)))
  const held = new Set(kept.flat())
  const fresh = [...wanted].filter((p) => !held.has(p)).sort((a, b) => a - b)
  const sizes = kept.map((k) => k.length)
  const adds = new Array<number>(workers).fill(0)
  for (let n = 0; n < fresh.length; n++) {
    let smallest = 0
    for (let i = 1; i < workers; i++) if ((sizes[i] as number) < (sizes[smallest] as number)) smallest = i
    sizes[smallest] = (sizes[smallest] as number) + 1
    adds[smallest] = (adds[smallest] as number) + 1
  }
  let at = 0
  return kept.map((k, i) => {
    const part = fresh.slice(at, at + (adds[i] as number))
    at += adds[i] as number
    return [...k, ...part].sort((a, b) => a - b)
  })
}

/**
 * Most partitions one list may name, before any metadata is read (a topic's real count is checked
 * when the job starts): far above any real topic, far below what would exhaust memory.
 */
export const MAX_PARTITIONS = 100_000

/** Parses `0-5,8,10-11` into [0,1,2,3,4,5,8,10,11]. Throws a RangeError naming the bad part. */
export function parsePartitionList(text: string): number[] {
  const out: number[] = []
  for (const part of text.split(',').map((p) => p.trim())) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!match) throw new RangeError(`invalid partition list "${text}": "${part}" is not N or N-M`)
    const from = Number(match[1])
    const to = match[2] === undefined ? from : Number(match[2])
    if (to < from) throw new RangeError(`invalid partition list "${text}": range "${part}" goes backwards`)
    if (to >= MAX_PARTITIONS || out.length + (to - from + 1) > MAX_PARTITIONS) {
      throw new RangeError(
        `invalid partition list "${text}": "${part}" goes past ${MAX_PARTITIONS - 1} (at most ${MAX_PARTITIONS} partitions)`,
      )
    }
    for (let p = from; p <= to; p++) out.push(p)
  }
  if (new Set(out).size !== out.length) throw new RangeError(`invalid partition list "${text}": a partition repeats`)
  return out
}

/**
 * The share of `partitions` that instance `index` of `count` takes: the index-th of `count`
 * slices as slicePartitions cuts them, so instances 0..count-1 cover every partition exactly once.
 * More instances than partitions is a configuration error (that instance would have nothing to do).
 */
export function instancePartitions(
  partitions: readonly number[],
  instance?: { index: number; count: number },
): number[] {
  if (!instance) return [...partitions]
  const { slices } = slicePartitions(partitions, instance.count)
  const share = slices[instance.index]
  if (slices.length < instance.count || !share) {
    throw new ConfigError('Supervisor', [
      {
        field: 'instance',
        message: `${instance.count} instances for ${partitions.length} partitions: ${idle(partitions.length, instance.count)} would have none (run at most ${partitions.length} instances)`,
      },
    ])
  }
  return share
}

const idle = (from: number, count: number) =>
  from === count - 1 ? `instance ${from}` : `instances ${from} to ${count - 1}`

/**
 * Parses an instance number given as `N` or as a name ending in `-N` (a StatefulSet pod's name,
 * e.g. `reach-2`, so `--instance $(POD_NAME)` works). Throws a RangeError naming the bad value.
 */
export function parseInstanceIndex(text: string): number {
  const match = /^(?:.*-)?(\d+)$/.exec(text.trim())
  if (!match) {
    throw new RangeError(
      `invalid instance "${text}": give N, or a name ending in -N such as a StatefulSet pod's (reach-2)`,
    )
  }
  const n = Number(match[1])
  if (!Number.isSafeInteger(n)) throw new RangeError(`invalid instance "${text}": ${match[1]} is too large`)
  return n
}
