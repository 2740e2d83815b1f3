/**
 * The co-partitioning assignor of group assignment: each member gets whole partition numbers, the
 * same ones of every input topic, so partition p of all inputs is read by one member (partition-wise
 * joins stay correct; Kafka Streams' rule for co-partitioned inputs). Members are ordered by their
 * static instance id (else their member id) and take contiguous, balanced shares in that order, so a
 * static member that restarts gets the same share back. Pure: the group leader runs it.
 */
export interface GroupMemberInfo {
  memberId: string
  /** group.instance.id of a static member, or null. */
  instanceId: string | null
}

const order = new Intl.Collator('en', { numeric: true })

export function assignCopartitioned(
  members: readonly GroupMemberInfo[],
  partitions: readonly number[],
): Map<string, number[]> {
  const sorted = [...members].sort((a, b) => order.compare(a.instanceId ?? a.memberId, b.instanceId ?? b.memberId))
  const all = [...new Set(partitions)].sort((a, b) => a - b)
  const out = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]))
  if (sorted.length === 0) return out
  const base = Math.floor(all.length / sorted.length)
  let extra = all.length % sorted.length
  let at = 0
  for (const member of sorted) {
    const size = base + (extra > 0 ? 1 : 0)
    if (extra > 0) extra--
    out.set(member.memberId, all.slice(at, at + size))
    at += size
  }
  return out
}
