import { afterEach, describe, expect, it, vi } from 'vitest'
import { withDeadline } from '../src/deadline.js'

afterEach(() => vi.useRealTimers())

describe('withDeadline', () => {
  it('answers with the work’s value and leaves no timer behind', async () => {
    vi.useFakeTimers()
    await expect(withDeadline(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('passes the work’s own failure through, and leaves no timer behind', async () => {
    vi.useFakeTimers()
    await expect(withDeadline(Promise.reject(new Error('broken')), 1000, () => new Error('late'))).rejects.toThrow(
      'broken',
    )
    expect(vi.getTimerCount()).toBe(0)
  })

  it('fails with the timeout’s error once the time passed, and ignores the work’s late failure', async () => {
    vi.useFakeTimers()
    const onTimeout = vi.fn(() => new Error('no answer within 1000 ms'))
    let failLate: (e: Error) => void = () => {}
    const work = new Promise<number>((_, reject) => {
      failLate = reject
    })
    const raced = withDeadline(work, 1000, onTimeout)
    const outcome = expect(raced).rejects.toThrow('no answer within 1000 ms')
    await vi.advanceTimersByTimeAsync(999)
    expect(onTimeout).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await outcome
    expect(onTimeout).toHaveBeenCalledTimes(1)
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    failLate(new Error('late failure'))
    await vi.advanceTimersByTimeAsync(10)
    process.off('unhandledRejection', unhandled)
    expect(unhandled).not.toHaveBeenCalled()
  })

  it('a deadline already passed (a negative time) fails at the next turn', async () => {
    vi.useFakeTimers()
    const raced = withDeadline(new Promise(() => {}), -5, () => new Error('past'))
    const outcome = expect(raced).rejects.toThrow('past')
    await vi.advanceTimersByTimeAsync(0)
    await outcome
  })
})
