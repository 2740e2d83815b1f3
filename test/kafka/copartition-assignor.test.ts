import { describe, expect, it } from 'vitest'
import { assignCooperative, assignCopartitioned, currentOwners } from '../../src/kafka/copartition-assignor.js'

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

describe('assignCopartitioned: sticky', () => {
  const owning = (memberId: string, owned: number[], ownedGeneration = 5) => ({
    memberId,
    instanceId: null,
    owned,
    ownedGeneration,
  })

  it('a member joining takes partitions from the one holding more than its share, and nothing else moves', () => {
    const target = assignCopartitioned([owning('m-b', [0, 1, 2, 3, 4, 5]), owning('m-a', [])], [0, 1, 2, 3, 4, 5])
    expect(target.get('m-b')).toEqual([0, 1, 2])
    expect(target.get('m-a')).toEqual([3, 4, 5])
  })

  it('a member leaving: its share is dealt to the others, who keep all they had', () => {
    const target = assignCopartitioned([owning('a', [0, 1]), owning('c', [4, 5])], [0, 1, 2, 3, 4, 5])
    expect(target.get('a')).toEqual([0, 1, 2])
    expect(target.get('c')).toEqual([3, 4, 5])
  })

  it('of two members claiming a partition, the later generation owns it (a member cut off still claims its old share)', () => {
    const owners = currentOwners([owning('stale', [0, 1], 3), owning('live', [1, 2], 4)], [0, 1, 2, 3])
    expect(Object.fromEntries(owners)).toEqual({ 0: 'stale', 1: 'live', 2: 'live' })
  })

  it('claims on partitions the job does not have are ignored', () => {
    const target = assignCopartitioned([owning('a', [0, 9])], [0, 1])
    expect(target.get('a')).toEqual([0, 1])
  })
})

describe('assignCooperative: two phases', () => {
  const owning = (memberId: string, owned: number[]) => ({ memberId, instanceId: null, owned, ownedGeneration: 1 })

  it('a partition that moves is first only taken from its owner; the new member gets it in the next generation', () => {
    const members = [owning('a', [0, 1, 2, 3]), owning('b', [])]
    const first = assignCooperative(members, [0, 1, 2, 3])
    expect(Object.fromEntries(first.assignment)).toEqual({ a: [0, 1], b: [] })
    expect(first.moving).toBe(2)
    // a released 2 and 3 and rejoined: now they are free and go to b
    const second = assignCooperative([owning('a', [0, 1]), owning('b', [])], [0, 1, 2, 3])
    expect(Object.fromEntries(second.assignment)).toEqual({ a: [0, 1], b: [2, 3] })
    expect(second.moving).toBe(0)
  })

  it('never gives one partition to two members in any phase', () => {
    for (let n = 1; n <= 5; n++) {
      const partitions = Array.from({ length: 11 }, (_, p) => p)
      const members = Array.from({ length: n }, (_, i) =>
        owning(
          `m${i}`,
          partitions.filter((p) => p % (n + 1) === i),
        ),
      )
      const { assignment } = assignCooperative(members, partitions)
      const given = [...assignment.values()].flat()
      expect(new Set(given).size).toBe(given.length)
      for (const [memberId, share] of assignment) {
        for (const p of share) {
          const owner = members.find((m) => m.owned.includes(p))
          expect(owner === undefined || owner.memberId === memberId).toBe(true)
        }
      }
    }
  })
})
