import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import {
  instancePartitions,
  parseInstanceIndex,
  parsePartitionList,
  resliceSticky,
  slicePartitions,
} from '../../supervisor/slicing.js'

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

describe('instancePartitions', () => {
  it('instances 0..count-1 take disjoint shares that cover every partition once', () => {
    const partitions = Array.from({ length: 12 }, (_, p) => p)
    const shares = [0, 1, 2, 3, 4].map((index) => instancePartitions(partitions, { index, count: 5 }))
    expect(shares).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
      [8, 9],
      [10, 11],
    ])
    expect(shares.flat()).toEqual(partitions)
  })

  it('without an instance, the partitions as given', () => {
    expect(instancePartitions([3, 1])).toEqual([3, 1])
  })

  it('more instances than partitions: a ConfigError naming the instance, not an empty daemon', () => {
    const share = () => instancePartitions([0, 1], { index: 2, count: 3 })
    expect(share).toThrow(ConfigError)
    expect(share).toThrow(
      /instance: 3 instances for 2 partitions: instance 2 would have none \(run at most 2 instances\)/,
    )
    // instance 0 of 3 has a partition, but the daemon count is still wrong for the job: refused alike
    expect(() => instancePartitions([0, 1], { index: 0, count: 5 })).toThrow(
      /5 instances for 2 partitions: instances 2 to 4 would have none/,
    )
  })
})

describe('parseInstanceIndex', () => {
  it.each([
    ['0', 0],
    ['7', 7],
    ['reach-2', 2],
    ['twitter-reach-10', 10],
    [' 3 ', 3],
  ])('reads %j as %d', (text, index) => {
    expect(parseInstanceIndex(text)).toBe(index)
  })

  it.each(['', 'reach', 'reach-', '-1x', '1.5', 'reach-2a'])('rejects %j with what to give', (text) => {
    expect(() => parseInstanceIndex(text)).toThrow(/give N, or a name ending in -N/)
  })
})

describe('resliceSticky (group assignment)', () => {
  it('from no slices it cuts what slicePartitions cuts', () => {
    for (const [n, workers] of [
      [12, 2],
      [7, 3],
      [2, 4],
    ] as const) {
      const partitions = Array.from({ length: n }, (_, i) => i)
      const { slices } = slicePartitions(partitions, workers)
      const sticky = resliceSticky([], partitions, workers).filter((s) => s.length > 0)
      expect(sticky).toEqual(slices)
    }
  })

  it('a partition that stays with the daemon stays in its slice; new ones go to the smallest slices', () => {
    const next = resliceSticky(
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
      [0, 2, 3, 4, 5, 8, 9],
      2,
    )
    expect(next).toEqual([
      [0, 2, 8, 9],
      [3, 4, 5],
    ])
  })

  it('a slice left with nothing is empty (its worker stops); at most `workers` slices', () => {
    expect(
      resliceSticky(
        [
          [0, 1],
          [2, 3],
        ],
        [0, 1],
        2,
      ),
    ).toEqual([[0, 1], []])
    expect(resliceSticky([[0, 1], []], [0, 1, 2, 3], 2)).toEqual([
      [0, 1],
      [2, 3],
    ])
    expect(resliceSticky([[0, 1]], [], 3)).toEqual([[], [], []])
  })

  it('every assigned partition is in exactly one slice', () => {
    const next = resliceSticky([[5, 1], [7], [2, 3, 4]], [1, 2, 6, 7, 8, 9, 10, 11], 3)
    const all = next.flat().sort((a, b) => a - b)
    expect(all).toEqual([1, 2, 6, 7, 8, 9, 10, 11])
    expect(next[0]).toContain(1)
    expect(next[1]).toContain(7)
    expect(next[2]).toContain(2)
  })

  it('rejects a worker count that is not a positive integer', () => {
    expect(() => resliceSticky([], [0], 0)).toThrow(RangeError)
  })
})
