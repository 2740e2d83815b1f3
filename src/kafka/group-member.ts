/**
 * Membership of the job's consumer group through Kafka's group protocol (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup), for group assignment. The group coordinator is the only coordinator: the
 * leader member computes the co-partitioned assignment (copartition-assignor.ts), every member gets
 * its share from SyncGroup, and the generation it joined in fences its commits (offsets.ts).
 *
 * Incremental cooperative rebalancing (KIP-429), on our own assignment protocol: each member's
 * subscription names the partitions it runs now and the generation it got them in; the leader moves
 * a partition in two rebalances (first its owner gives it up, then its new member gets it), so a
 * member keeps running every partition that stays with it while the group rebalances. Static
 * membership (group.instance.id) lets a restarted member rejoin with its old share and no rebalance.
 * Heartbeats run on their own timer, independent of processing.
 */
import { createRequire } from 'node:module'
import { AssignerProtocol, Kafka, type KafkaConfig, logLevel } from 'kafkajs'
import { withDeadline } from '../deadline.js'
import { ErrorCodes, KasperError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { createCluster, type KafkaBroker, type KafkaCluster, sendRequest } from './cluster.js'
import { assignCooperative, type GroupMemberInfo } from './copartition-assignor.js'
import { kafkajsLogCreator } from './kafkajs-logger.js'
import { COORDINATOR_MOVED, isTransient } from './transient-errors.js'

const require = createRequire(import.meta.url)
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>
const { requests } = require('kafkajs/src/protocol/requests') as { requests: Record<string, unknown> }

/**
 * The assignment protocol's name, as kafka-consumer-groups --describe --members shows it. Daemons
 * of kasper-ts before cooperative rebalancing used `kasper-copartition` (eager): the coordinator
 * refuses to mix the two (INCONSISTENT_GROUP_PROTOCOL), so an upgrade stops every daemon first.
 */
export const PROTOCOL_NAME = 'kasper-cooperative'

/** What a member's subscription carries besides its topics (userData, JSON). */
interface Subscription {
  /** The job's partitions, as this member was configured. */
  partitions: readonly number[]
  /** What it runs now, and the generation it got it in. */
  owned: readonly number[]
  generation: number
}

/** What a member holds for one generation of the group. */
export interface GroupGeneration {
  generationId: number
  memberId: string
  groupInstanceId?: string
  /** The partition numbers of every input topic this member reads in this generation. */
  partitions: number[]
  /**
   * Partitions are on their way between members (released this generation, handed over in the
   * next): the member heartbeats faster until then, to hear of that rebalance at once.
   */
  handoverPending?: boolean
}

/** How often a member heartbeats while a hand-over is pending (the next rebalance follows at once). */
export const HANDOVER_HEARTBEAT_MS = 100

export interface GroupMemberOptions {
  groupId: string
  topics: readonly string[]
  /** The job's partitions: what the leader assigns. */
  partitions: readonly number[]
  /** Static membership: a stable id per daemon (a pod's name). */
  groupInstanceId?: string
  sessionTimeoutMs: number
  /** How long the coordinator waits for every member to rejoin: above the time to finish a batch. */
  rebalanceTimeoutMs: number
  heartbeatIntervalMs: number
  /** How long the coordinator may stay unreachable while joining before it fails. */
  unavailableTimeoutMs: number
  logger: Logger
}

export type MembershipEnd = { reason: 'rebalance' | 'fenced' | 'unreachable'; error?: unknown }

/** A member as the leader sees it: its subscription's claims (none when it cannot be read). */
function memberInfo(m: { memberId: string; groupInstanceId?: string | null; memberMetadata: Buffer }): GroupMemberInfo {
  const info: GroupMemberInfo = { memberId: m.memberId, instanceId: m.groupInstanceId ?? null }
  try {
    const { userData } = AssignerProtocol.MemberMetadata.decode(m.memberMetadata) as { userData: Buffer }
    const sub = JSON.parse(userData.toString()) as Partial<Subscription>
    if (Array.isArray(sub.owned) && sub.owned.every((p) => Number.isInteger(p))) {
      info.owned = sub.owned
      info.ownedGeneration = typeof sub.generation === 'number' ? sub.generation : -1
    }
  } catch {
    // a subscription that does not parse claims nothing
  }
  return info
}

/** Whether an assignment's userData says partitions are being handed over (none or unreadable: no). */
function handoverPending(userData: Buffer | undefined): boolean {
  try {
    return userData !== undefined && userData.length > 0 && JSON.parse(userData.toString()).handoverPending === true
  } catch {
    return false
  }
}

/** Errors that say this member's generation is over. */
const GENERATION_OVER = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'])

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class GroupMember {
  #memberId = ''
  #generation: GroupGeneration | undefined

  constructor(
    private readonly cluster: KafkaCluster,
    readonly options: GroupMemberOptions,
  ) {}

  /** A member on its own connections to the cluster of a kafkajs config (a job's `kafka`). */
  static create(kafka: KafkaConfig, options: GroupMemberOptions): GroupMember {
    const client = new Kafka({ ...kafka, logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(options.logger) })
    return new GroupMember(createCluster(client), options)
  }

  connect(): Promise<void> {
    return this.cluster.connect()
  }

  disconnect(): Promise<void> {
    return this.cluster.disconnect()
  }

  get generation(): GroupGeneration | undefined {
    return this.#generation
  }

  /**
   * Joins (or rejoins) the group and returns this member's share for the new generation. `owned`:
   * the partitions this member still runs (from its last generation); the leader moves none of
   * them to another member before this member has given them up.
   */
  async join(owned: readonly number[] = []): Promise<GroupGeneration> {
    const { unavailableTimeoutMs, logger } = this.options
    const startedAt = Date.now()
    for (let attempt = 1; ; attempt++) {
      try {
        const generation = await this.#joinOnce(owned)
        this.#generation = generation
        return generation
      } catch (error) {
        const type = (error as { type?: string }).type
        if ((error as { name?: string }).name === 'KafkaJSMemberIdRequired') {
          this.#memberId = (error as { memberId?: string }).memberId ?? ''
          continue
        }
        if (type === 'FENCED_INSTANCE_ID') throw this.#duplicateInstance(error)
        if (type === 'INCONSISTENT_GROUP_PROTOCOL') {
          throw new KasperError(
            ErrorCodes.GROUP_JOIN_FAILED,
            `group ${this.options.groupId} has members on another assignment protocol than ${PROTOCOL_NAME}: daemons of an earlier kasper-ts (eager rebalancing) still run this job; stop them all, then start this version`,
            { cause: error, retriable: false },
          )
        }
        if (type !== undefined && GENERATION_OVER.has(type)) {
          this.#memberId = ''
          continue
        }
        // the group rebalanced again before SyncGroup: the protocol says rejoin, at once
        if (type === 'REBALANCE_IN_PROGRESS') continue
        const transient = isTransient(error, COORDINATOR_MOVED)
        if (!transient || Date.now() - startedAt > unavailableTimeoutMs) {
          throw new KasperError(
            ErrorCodes.GROUP_JOIN_FAILED,
            `joining group ${this.options.groupId} failed: ${(error as Error).message}`,
            { cause: error, retriable: transient },
          )
        }
        logger.warn({ err: error, attempt }, 'joining the group failed: retrying')
        await sleep(Math.min(100 * 2 ** attempt, 2000))
      }
    }
  }

  async #joinOnce(owned: readonly number[]): Promise<GroupGeneration> {
    const { groupId, topics, partitions, groupInstanceId, sessionTimeoutMs, rebalanceTimeoutMs } = this.options
    const coordinator = await this.cluster.findGroupCoordinator({ groupId })
    const subscription: Subscription = {
      partitions,
      owned: [...owned].sort((a, b) => a - b),
      generation: owned.length > 0 ? (this.#generation?.generationId ?? -1) : -1,
    }
    const metadata = AssignerProtocol.MemberMetadata.encode({
      version: 0,
      topics: [...topics],
      userData: Buffer.from(JSON.stringify(subscription)),
    })
    const joined = (await this.#send(coordinator, apiKeys.JoinGroup, requests.JoinGroup, {
      groupId,
      sessionTimeout: sessionTimeoutMs,
      rebalanceTimeout: rebalanceTimeoutMs,
      memberId: this.#memberId,
      groupInstanceId: groupInstanceId ?? null,
      protocolType: 'consumer',
      groupProtocols: [{ name: PROTOCOL_NAME, metadata }],
    })) as {
      generationId: number
      leaderId: string
      memberId: string
      members: { memberId: string; groupInstanceId?: string | null; memberMetadata: Buffer }[]
    }
    this.#memberId = joined.memberId
    let groupAssignment: { memberId: string; memberAssignment: Buffer }[] = []
    if (joined.leaderId === joined.memberId) {
      const { assignment: shares, moving } = assignCooperative(joined.members.map(memberInfo), partitions)
      groupAssignment = [...shares].map(([memberId, share]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: Object.fromEntries(topics.map((t) => [t, share])),
          userData: Buffer.from(JSON.stringify({ handoverPending: moving > 0 })),
        }),
      }))
      this.options.logger.info(
        {
          generationId: joined.generationId,
          members: joined.members.length,
          shares: Object.fromEntries(shares),
          movingNextGeneration: moving,
        },
        'leader: assigned the group',
      )
    }
    const synced = (await this.#send(coordinator, apiKeys.SyncGroup, requests.SyncGroup, {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: groupInstanceId ?? null,
      groupAssignment,
    })) as { memberAssignment: Buffer }
    const decoded =
      synced.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(synced.memberAssignment) : null
    const mine = decoded?.assignment[topics[0] as string] ?? []
    return {
      generationId: joined.generationId,
      memberId: joined.memberId,
      ...(groupInstanceId ? { groupInstanceId } : {}),
      partitions: [...mine].sort((a, b) => a - b),
      ...(handoverPending(decoded?.userData) ? { handoverPending: true } : {}),
    }
  }

  /**
   * Heartbeats every heartbeatIntervalMs (HANDOVER_HEARTBEAT_MS while a hand-over is pending) until
   * the generation ends; resolves with why. `stop()` ends the heartbeats (the promise then never
   * resolves).
   */
  watch(): { ended: Promise<MembershipEnd>; stop: () => void } {
    const generation = this.#generation
    if (!generation) throw new Error('watch() before join()')
    const { groupId, groupInstanceId, sessionTimeoutMs, logger } = this.options
    const heartbeatIntervalMs = generation.handoverPending
      ? Math.min(HANDOVER_HEARTBEAT_MS, this.options.heartbeatIntervalMs)
      : this.options.heartbeatIntervalMs
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const ended = new Promise<MembershipEnd>((resolveEnd) => {
      let lastOk = Date.now()
      const beat = async () => {
        if (stopped) return
        try {
          const heartbeat = (async () => {
            const coordinator = await this.cluster.findGroupCoordinator({ groupId })
            await this.#send(coordinator, apiKeys.Heartbeat, requests.Heartbeat, {
              groupId,
              groupGenerationId: generation.generationId,
              memberId: generation.memberId,
              groupInstanceId: groupInstanceId ?? null,
            })
          })()
          // a request on a connection that went silent (a network cut) waits for the client's request
          // timeout, far beyond the session: the session's own deadline ends the wait (each heartbeat
          // still gets an interval to answer: after a pause of this process the coordinator's answer,
          // that the member is gone, says more than the deadline)
          await withDeadline(
            heartbeat,
            Math.max(lastOk + sessionTimeoutMs - Date.now(), heartbeatIntervalMs),
            () => new Error('no answer from the group coordinator within the session'),
          )
          lastOk = Date.now()
        } catch (error) {
          const type = (error as { type?: string }).type
          if (type === 'REBALANCE_IN_PROGRESS') return resolveEnd({ reason: 'rebalance' })
          // another daemon joined with this member's group.instance.id: rejoining would fence it in
          // turn, and so on; this daemon gives up instead, as Kafka's own consumers do
          if (type === 'FENCED_INSTANCE_ID')
            return resolveEnd({ reason: 'fenced', error: this.#duplicateInstance(error) })
          if (type !== undefined && GENERATION_OVER.has(type)) {
            if (!groupInstanceId) this.#memberId = ''
            return resolveEnd({ reason: 'fenced', error })
          }
          if (Date.now() - lastOk >= sessionTimeoutMs) return resolveEnd({ reason: 'unreachable', error })
          logger.warn({ err: error }, 'heartbeat failed: retrying')
        }
        if (!stopped) timer = setTimeout(() => void beat(), heartbeatIntervalMs)
      }
      timer = setTimeout(() => void beat(), heartbeatIntervalMs)
    })
    return {
      ended,
      stop: () => {
        stopped = true
        clearTimeout(timer)
      },
    }
  }

  /**
   * Leaves the group so its partitions move at once. A static member does not leave (as Kafka's
   * own clients do not): it is expected back with the same instance id, within the session timeout.
   */
  async leave(): Promise<void> {
    if (this.options.groupInstanceId || !this.#memberId) return
    const { groupId } = this.options
    try {
      const coordinator = await this.cluster.findGroupCoordinator({ groupId })
      await this.#send(coordinator, apiKeys.LeaveGroup, requests.LeaveGroup, {
        groupId,
        memberId: this.#memberId,
        groupInstanceId: null,
      })
    } catch (error) {
      this.options.logger.warn({ err: error }, 'leaving the group failed: the coordinator will expire this member')
    }
    this.#memberId = ''
  }

  /** Another member uses this member's group.instance.id: a configuration error, not retriable. */
  #duplicateInstance(error: unknown): KasperError {
    return new KasperError(
      ErrorCodes.GROUP_JOIN_FAILED,
      `another daemon of group ${this.options.groupId} uses group instance id "${this.options.groupInstanceId}": give each daemon its own --group-instance-id`,
      { cause: error, retriable: false },
    )
  }

  #send(broker: KafkaBroker, apiKey: number | undefined, definition: unknown, args: Record<string, unknown>) {
    return sendRequest(broker, broker.lookupRequest(apiKey as number, definition)(args))
  }
}
