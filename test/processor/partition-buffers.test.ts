import { describe, expect, it } from 'vitest'
import type { MessageRun } from '../../src/kafka/record-run.js'
import { Notifier, PartitionBuffers } from '../../src/processor/partition-buffers.js'
import { incoming } from '../helpers/processor.js'

const msg = incoming

describe('PartitionBuffers', () => {
  it('keeps arrival order across topics and offset order within each topic', () => {
    const b = new PartitionBuffers([0])
    b.push(0, [msg('a', 0, 0), msg('a', 0, 1)], 0)
    b.push(0, [msg('b', 0, 0)], 1)
    b.push(0, [msg('a', 0, 2)], 2)
    expect(b.take(0, 10, 3).map((m) => `${m.topic}${m.offset}`)).toEqual(['a0', 'a1', 'b0', 'a2'])
    expect(b.size(0)).toBe(0)
  })

  it('a partition is due when full or when its oldest message waited batchWaitMs', () => {
    const b = new PartitionBuffers([0, 1])
    b.push(0, [msg('a', 0, 0)], 1000)
    expect(b.due(2, 500, 1400, undefined)).toBeUndefined()
    expect(b.nextDeadline(500, 1400)).toBe(100)
    expect(b.due(2, 500, 1500, undefined)).toBe(0)
    b.push(1, [msg('a', 1, 0), msg('a', 1, 1)], 1500)
    expect(b.due(2, 500, 1500, 0)).toBe(1)
  })

  it('takes at most batchSize and restarts the wait clock for what stays behind', () => {
    const b = new PartitionBuffers([0])
    b.push(
      0,
      [0, 1, 2, 3, 4].map((o) => msg('a', 0, o)),
      0,
    )
    expect(b.take(0, 2, 100).map((m) => m.offset)).toEqual(['0', '1'])
    expect(b.size(0)).toBe(3)
    expect(b.nextDeadline(1000, 100)).toBe(1000)
    expect(b.take(0, 10, 200).map((m) => m.offset)).toEqual(['2', '3', '4'])
  })

  it('scans round-robin so a busy partition cannot starve the others', () => {
    const b = new PartitionBuffers([0, 1, 2])
    for (const p of [0, 1, 2]) b.push(p, [msg('a', p, 0), msg('a', p, 1)], 0)
    expect(b.due(2, 1000, 0, 0)).toBe(1)
    expect(b.due(2, 1000, 0, 1)).toBe(2)
    expect(b.due(2, 1000, 0, 2)).toBe(0)
  })

  it('takes across fetched runs, part of a run at a time, and makes each message once, when taken', () => {
    const made: number[] = []
    // a run as a fetch hands it over: messages are made by slice() (src/kafka/record-run.ts)
    const run = (from: number, n: number): MessageRun => ({
      length: n,
      slice: (start = 0, end = n) =>
        Array.from({ length: Math.min(end, n) - start }, (_, i) => {
          made.push(from + start + i)
          return msg('a', 0, from + start + i)
        }),
    })
    const b = new PartitionBuffers([0])
    b.push(0, run(0, 3), 0)
    b.push(0, run(3, 4), 0)
    b.push(0, run(7, 2), 0)
    expect(b.size(0)).toBe(9)
    expect(made).toEqual([])
    expect(b.take(0, 2, 1).map((m) => m.offset)).toEqual(['0', '1'])
    expect(b.take(0, 4, 2).map((m) => m.offset)).toEqual(['2', '3', '4', '5'])
    expect(b.size(0)).toBe(3)
    expect(b.take(0, 10, 3).map((m) => m.offset)).toEqual(['6', '7', '8'])
    expect(made).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(b.total).toBe(0)
  })

  it('ignores partitions it does not own', () => {
    const b = new PartitionBuffers([0])
    b.push(7, [msg('a', 7, 0)], 0)
    expect(b.size(7)).toBe(0)
    expect(b.take(7, 1, 0)).toEqual([])
  })

  it('a partition added by a rebalance buffers from then on; one removed drops what waits and says how much', () => {
    const b = new PartitionBuffers([0])
    b.add(3)
    b.push(3, [msg('a', 3, 0), msg('a', 3, 1)], 0)
    b.push(0, [msg('a', 0, 0)], 0)
    expect(b.total).toBe(3)
    expect(b.remove(3)).toBe(2)
    expect(b.total).toBe(1)
    b.push(3, [msg('a', 3, 2)], 0) // a fetch answered after the release: ignored
    expect(b.size(3)).toBe(0)
    expect(b.due(1, 1000, 0, undefined)).toBe(0)
    b.add(0) // adding one it has keeps what waits
    expect(b.size(0)).toBe(1)
  })
})

describe('Notifier', () => {
  it('wakes waiters on notify and otherwise after the timeout', async () => {
    const n = new Notifier()
    const started = Date.now()
    const woken = n.wait(10_000)
    n.notify()
    await woken
    expect(Date.now() - started).toBeLessThan(1000)
    const t0 = Date.now()
    await n.wait(50)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45)
    // a wait that timed out leaves no waiter behind (no growth while nothing notifies)
    await Promise.all([n.wait(10), n.wait(10), n.wait(10)])
    expect(n.waiting).toBe(0)
  })
})
