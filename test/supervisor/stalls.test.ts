import { describe, expect, it } from 'vitest'
import { stallMessage } from '../../supervisor/stalls.js'

describe('stallMessage', () => {
  const launchedAt = 1_000

  it('a worker that has not reported yet is stalled only past the limit since its launch', () => {
    expect(stallMessage({ index: 0, progress: undefined, launchedAt }, launchedAt + 500, 500)).toBeUndefined()
    expect(stallMessage({ index: 0, progress: undefined, launchedAt }, launchedAt + 501, 500)).toBe(
      'slice 0 has not reported for 501 ms (stallTimeoutMs 500)',
    )
  })

  it('input waiting and no batch completed for longer than the limit is stalled, though the worker reports', () => {
    const progress = { lastProgressAt: 2_000, waiting: 42, reportedAt: 9_900 }
    expect(stallMessage({ index: 3, progress, launchedAt }, 10_000, 5_000)).toBe(
      'slice 3 completed no batch for 8000 ms with 42 messages waiting (stallTimeoutMs 5000)',
    )
  })

  it('nothing waiting is idle, not stalled, however long ago the last batch was', () => {
    const progress = { lastProgressAt: 0, waiting: 0, reportedAt: 9_900 }
    expect(stallMessage({ index: 1, progress, launchedAt }, 10_000, 5_000)).toBeUndefined()
  })
})
