/** Lag from committed offsets and high-water marks (keys from tpKey); pure. */
import { parseTpKey } from '../kafka/topic-partitions.js'

export function lagByPartition(
  committed: ReadonlyMap<string, string>,
  highWatermarks: ReadonlyMap<string, string>,
): { topic: string; partition: number; lag: number }[] {
  const out: { topic: string; partition: number; lag: number }[] = []
  for (const [key, offset] of committed) {
    const hwm = highWatermarks.get(key)
    if (hwm === undefined) continue
    out.push({ ...parseTpKey(key), lag: Math.max(0, Number(BigInt(hwm) - BigInt(offset))) })
  }
  return out
}

export function totalLag(committed: ReadonlyMap<string, string>, highWatermarks: ReadonlyMap<string, string>): number {
  return lagByPartition(committed, highWatermarks).reduce((sum, p) => sum + p.lag, 0)
}
