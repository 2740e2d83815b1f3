import { describe, expect, it } from 'vitest'
import { assignCopartitioned } from '../../src/kafka/copartition-assignor.js'

const member = (memberId: string, instanceId: string | null = null) => ({ memberId, instanceId })

describe('assignCopartitioned', () => {
  it('gives every partition to exactly one member, in contiguous balanced shares', () => {
    const shares = assignCopartitioned([member('m-b'), member('m-a'), member('m-c')], [0, 1, 2, 3, 4, 5, 6])
    expect(Object.fromEntries(shares)).toEqual({ 'm-a': [0, 1, 2], 'm-b': [3, 4], 'm-c': [5, 6] })
  })

  it('orders static members by instance id, numerically (reach-2 before reach-10), whatever their member ids', () => {
    const members = [member('z', 'reach-10'), member('y', 'reach-2'), member('x', 'reach-1')]
    const shares = assignCopartitioned(
      members,
      Array.from({ length: 6 }, (_, p) => p),
    )
    expect(Object.fromEntries(shares)).toEqual({ x: [0, 1], y: [2, 3], z: [4, 5] })
  })

  it('a static member that comes back with a new member id gets the same share', () => {
    const before = assignCopartitioned([member('old', 'pod-0'), member('b', 'pod-1')], [0, 1, 2, 3])
    const after = assignCopartitioned([member('b', 'pod-1'), member('new', 'pod-0')], [0, 1, 2, 3])
    expect(after.get('new')).toEqual(before.get('old'))
    expect(after.get('b')).toEqual(before.get('b'))
  })

  it('more members than partitions: the last members get none; no members: nothing', () => {
    const shares = assignCopartitioned([member('a'), member('b'), member('c')], [7, 3])
    expect(Object.fromEntries(shares)).toEqual({ a: [3], b: [7], c: [] })
    expect(assignCopartitioned([], [0, 1]).size).toBe(0)
  })
})
