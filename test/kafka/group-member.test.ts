/**
 * GroupMember's heartbeats against a scripted coordinator (pure logic; the real group protocol is
 * tested on the broker in test/supervisor/group-assignment.test.ts and on the 3-node cluster).
 */
import { AssignerProtocol } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError } from '../../src/errors.js'
import type { KafkaBroker, KafkaCluster } from '../../src/kafka/cluster.js'
import { GroupMember } from '../../src/kafka/group-member.js'
import { silentLogger } from '../../src/logging/logger.js'

const JOIN_GROUP = 11
const HEARTBEAT = 12
const SYNC_GROUP = 14

/**
 * A coordinator that lets one member join with partitions 0-1 (or answers JoinGroup with `joinError`);
 * its heartbeats answer as `heartbeat` says.
 */
function coordinator(heartbeat: () => Promise<unknown>, joinError?: string) {
  const broker = {
    lookupRequest: (apiKey: number) => (args: Record<string, unknown>) => ({ apiKey, args }),
    connectionPool: {
      send: async ({ apiKey }: { apiKey: number }) => {
        if (apiKey === JOIN_GROUP && joinError) throw Object.assign(new Error(joinError), { type: joinError })
        if (apiKey === JOIN_GROUP) return { generationId: 7, leaderId: 'm1', memberId: 'm1', members: [] }
        if (apiKey === SYNC_GROUP)
          return {
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: 0,
              assignment: { in: [0, 1] },
              userData: Buffer.alloc(0),
            }),
          }
        if (apiKey === HEARTBEAT) return heartbeat()
        throw new Error(`unexpected api ${apiKey}`)
      },
    },
  } as unknown as KafkaBroker
  return { findGroupCoordinator: async () => broker } as unknown as KafkaCluster
}

const member = (cluster: KafkaCluster) =>
  new GroupMember(cluster, {
    groupId: 'g',
    topics: ['in'],
    partitions: [0, 1],
    sessionTimeoutMs: 400,
    rebalanceTimeoutMs: 1000,
    heartbeatIntervalMs: 50,
    unavailableTimeoutMs: 1000,
    logger: silentLogger,
  })

describe('GroupMember heartbeats', () => {
  it('a heartbeat that never answers (a silent network cut) ends the generation as unreachable within the session', async () => {
    let cut = false
    const m = member(coordinator(() => (cut ? new Promise(() => {}) : Promise.resolve({}))))
    const generation = await m.join()
    expect(generation).toMatchObject({ generationId: 7, memberId: 'm1', partitions: [0, 1] })
    const watch = m.watch()
    cut = true
    // without the session's own deadline this waits for the client's request timeout (30 s)
    await expect(watch.ended).resolves.toMatchObject({ reason: 'unreachable' })
  })

  it('a coordinator that answers keeps the generation; a rebalance ends it', async () => {
    let answers = 0
    let rebalancing = false
    const m = member(
      coordinator(async () => {
        answers++
        if (rebalancing) throw Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' })
        return {}
      }),
    )
    await m.join()
    const watch = m.watch()
    // heartbeats past two session lengths
    while (answers < 20) await new Promise((r) => setTimeout(r, 50))
    rebalancing = true
    await expect(watch.ended).resolves.toEqual({ reason: 'rebalance' })
  })
})

describe('GroupMember joining', () => {
  it('a group whose members use another assignment protocol (eager daemons of an earlier version): a clear, non-retriable error', async () => {
    const m = member(coordinator(async () => ({}), 'INCONSISTENT_GROUP_PROTOCOL'))
    const error = await m.join().catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.GROUP_JOIN_FAILED)).toBe(true)
    expect((error as KasperError).retriable).toBe(false)
    expect((error as Error).message).toMatch(/another assignment protocol than kasper-cooperative.*stop them all/)
  })
})
