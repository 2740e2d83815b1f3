import { describe, expect, it } from 'vitest'
import { parsePartitionList, slicePartitions } from '../../supervisor/slicing.js'

describe('slicePartitions', () => {
  it.each([
    [12, 1],
    [12, 4],
    [12, 5],
    [7, 3],
    [3, 3],
  ])('%i partitions over %i workers: disjoint, covering, balanced', (n, workers) => {
    const partitions = Array.from({ length: n }, (_, i) => i)
    const { slices, idleWorkers } = slicePartitions(partitions, workers)
    expect(idleWorkers).toBe(0)
    expect(slices).toHaveLength(workers)
    expect(slices.flat()).toEqual(partitions)
    const sizes = slices.map((s) => s.length)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
  })

  it('keeps a non-contiguous partition list in order', () => {
    expect(slicePartitions([8, 2, 5, 11], 2).slices).toEqual([
      [8, 2],
      [5, 11],
    ])
  })

  it('more workers than partitions: one slice per partition, the rest idle (reported)', () => {
    expect(slicePartitions([0, 1], 5)).toEqual({ slices: [[0], [1]], idleWorkers: 3 })
  })

  it('rejects zero workers and repeated partitions', () => {
    expect(() => slicePartitions([0], 0)).toThrow(/workers must be a positive integer/)
    expect(() => slicePartitions([0, 0], 1)).toThrow(/must not repeat/)
  })
})

describe('parsePartitionList', () => {
  it('parses single partitions and ranges', () => {
    expect(parsePartitionList('0-5,8')).toEqual([0, 1, 2, 3, 4, 5, 8])
    expect(parsePartitionList(' 3 ')).toEqual([3])
  })

  it.each([
    ['a', /"a" is not N or N-M/],
    ['5-2', /goes backwards/],
    ['1,1', /repeats/],
    ['', /is not N or N-M/],
    ['-1', /is not N or N-M/],
    ['0-4294967295', /goes past 99999 \(at most 100000 partitions\)/],
    ['100000', /goes past 99999/],
  ])('rejects %j', (text, message) => {
    expect(() => parsePartitionList(text)).toThrow(message)
  })
})
