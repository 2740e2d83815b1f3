import { afterEach, describe, expect, it, vi } from 'vitest'
import { GenerationCell } from '../../src/kafka/generation.js'

describe('GenerationCell', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a commit waiting out a rebalance gets the next generation once the member joins it', async () => {
    const cell = new GenerationCell({ generationId: 3, memberId: 'm' })
    const waiting = cell.newer(3, 60_000)
    cell.set({ generationId: 3, memberId: 'm' }) // the same generation again wakes nothing
    cell.set({ generationId: 4, memberId: 'm' })
    expect(await waiting).toEqual({ generationId: 4, memberId: 'm' })
    expect(cell.current.generationId).toBe(4)
    // already newer: at once
    expect(await cell.newer(3, 1)).toEqual({ generationId: 4, memberId: 'm' })
  })

  it('an older generation never replaces the current one', () => {
    const cell = new GenerationCell({ generationId: 5, memberId: 'm' })
    cell.set({ generationId: 4, memberId: 'old' })
    expect(cell.current).toEqual({ generationId: 5, memberId: 'm' })
  })

  it('no newer generation within the time: undefined, and the waiter is gone', async () => {
    vi.useFakeTimers()
    const cell = new GenerationCell({ generationId: 1, memberId: 'm' })
    const waiting = cell.newer(1, 1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(await waiting).toBeUndefined()
    cell.set({ generationId: 2, memberId: 'm' }) // nothing left to wake
  })

  it('closed (the member lost its partitions, the processor stops): waits end at once, later ones too', async () => {
    const cell = new GenerationCell({ generationId: 1, memberId: 'm' })
    const waiting = cell.newer(1, 60_000)
    cell.close()
    expect(await waiting).toBeUndefined()
    expect(await cell.newer(1, 60_000)).toBeUndefined()
  })
})
