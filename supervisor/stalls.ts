import type { SliceState } from './supervisor-types.js'

/**
 * Why a slice counts as stalled at `now`, or undefined: input waiting and no batch completed for
 * more than `limitMs`, or no report from its worker for that long (a blocked event loop).
 */
export function stallMessage(
  state: Pick<SliceState, 'index' | 'progress' | 'launchedAt'>,
  now: number,
  limitMs: number,
): string | undefined {
  const p = state.progress
  const silentMs = now - (p?.reportedAt ?? state.launchedAt)
  const stuckMs = p && p.waiting > 0 ? now - p.lastProgressAt : 0
  if (silentMs <= limitMs && stuckMs <= limitMs) return undefined
  return stuckMs > limitMs
    ? `slice ${state.index} completed no batch for ${stuckMs} ms with ${p?.waiting} messages waiting (stallTimeoutMs ${limitMs})`
    : `slice ${state.index} has not reported for ${silentMs} ms (stallTimeoutMs ${limitMs})`
}
