/**
 * The co-partitioning assignor of group assignment: each member gets whole partition numbers, the
 * same ones of every input topic, so partition p of all inputs is read by one member (partition-wise
 * joins stay correct; Kafka Streams' rule for co-partitioned inputs). Pure: the group leader runs it.
 *
 * - Balanced: shares differ by at most one partition.
 * - Sticky: a member keeps what it runs now, up to its share, so a rebalance moves as little as it can.
 * - Ordered: members sort by their static instance id (else member id); partitions nobody keeps are
 *   dealt out in contiguous runs in that order, so a fresh group (or a static member back with a new
 *   member id) gets the same shares every time.
 * - Cooperative (KIP-429's two phases): a partition that moves is first only taken from its owner's
 *   assignment (the owner commits its last batch and lets it go, then rejoins); the next rebalance
 *   gives it to its new member. No partition is ever read by two members at once.
 */
export interface GroupMemberInfo {
  memberId: string
  /** group.instance.id of a static member, or null. */
  instanceId: string | null
  /** The partitions the member runs now, as its subscription says (cooperative rebalancing). */
  owned?: readonly number[]
  /** The generation the member got `owned` in: of two members claiming a partition, the later one owns it. */
  ownedGeneration?: number
}

const order = new Intl.Collator('en', { numeric: true })
const ascending = (a: number, b: number) => a - b

function sortMembers(members: readonly GroupMemberInfo[]): GroupMemberInfo[] {
  return [...members].sort((a, b) => order.compare(a.instanceId ?? a.memberId, b.instanceId ?? b.memberId))
}

/** Who owns each partition: a claim from a later generation wins (a member cut off may still claim its old share). */
export function currentOwners(members: readonly GroupMemberInfo[], partitions: readonly number[]): Map<number, string> {
  const valid = new Set(partitions)
  const owners = new Map<number, { memberId: string; generation: number }>()
  for (const member of sortMembers(members)) {
    const generation = member.ownedGeneration ?? -1
    for (const p of member.owned ?? []) {
      if (!valid.has(p)) continue
      const claim = owners.get(p)
      if (!claim || generation > claim.generation) owners.set(p, { memberId: member.memberId, generation })
    }
  }
  return new Map([...owners].map(([p, claim]) => [p, claim.memberId]))
}

/** Where every partition should be: balanced, sticky, ordered (see above). */
export function assignCopartitioned(
  members: readonly GroupMemberInfo[],
  partitions: readonly number[],
): Map<string, number[]> {
  const sorted = sortMembers(members)
  const all = [...new Set(partitions)].sort(ascending)
  const out = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]))
  if (sorted.length === 0) return out
  const owners = currentOwners(sorted, all)
  const ownedBy = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]))
  for (const [p, memberId] of [...owners].sort(([a], [b]) => a - b)) ownedBy.get(memberId)?.push(p)
  // shares: base each, one more for `extra` members; members already holding more than base get them first
  const base = Math.floor(all.length / sorted.length)
  let extra = all.length % sorted.length
  const quota = new Map(sorted.map((m) => [m.memberId, base]))
  const holdingMore = sorted.filter((m) => (ownedBy.get(m.memberId)?.length ?? 0) > base)
  for (const m of [...holdingMore, ...sorted.filter((m) => !holdingMore.includes(m))]) {
    if (extra === 0) break
    quota.set(m.memberId, base + 1)
    extra--
  }
  const kept = new Set<number>()
  for (const m of sorted) {
    const keep = (ownedBy.get(m.memberId) ?? []).slice(0, quota.get(m.memberId))
    out.set(m.memberId, keep)
    for (const p of keep) kept.add(p)
  }
  const pool = all.filter((p) => !kept.has(p))
  for (const m of sorted) {
    const share = out.get(m.memberId) as number[]
    const room = (quota.get(m.memberId) ?? 0) - share.length
    if (room > 0) out.set(m.memberId, [...share, ...pool.splice(0, room)].sort(ascending))
  }
  return out
}

/**
 * What the leader hands out this generation: the target of assignCopartitioned, less every partition
 * still owned by another member (that owner's assignment leaves it out: it releases it and rejoins,
 * and the next generation gives it to its new member).
 */
export function assignCooperative(
  members: readonly GroupMemberInfo[],
  partitions: readonly number[],
): { assignment: Map<string, number[]>; moving: number } {
  const target = assignCopartitioned(members, partitions)
  const owners = currentOwners(members, partitions)
  let moving = 0
  const assignment = new Map<string, number[]>()
  for (const [memberId, share] of target) {
    assignment.set(
      memberId,
      share.filter((p) => {
        const owner = owners.get(p)
        const free = owner === undefined || owner === memberId
        if (!free) moving++
        return free
      }),
    )
  }
  return { assignment, moving }
}
