/**
 * A 3-node KRaft cluster for fault tests, on private ports (KASPER_CLUSTER_PORT, default 19300),
 * started by the test file that needs it and stopped (state removed) when it ends, unless
 * KASPER_KEEP_BROKER is set. Faults: stop or kill a node, start it again, move leaders with Kafka's
 * own tools. Audits read with Kafka's own Java console consumer: a client that shares no code with
 * kasper-ts.
 */

import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Admin, Kafka, logLevel } from 'kafkajs'
import pRetry from 'p-retry'
import { toolOutput, toolOutputAsync } from '../../scripts/lib/broker.mjs'
import {
  type ClusterSettings,
  clusterSettings,
  startCluster,
  startNode,
  stopCluster,
  stopNode,
} from '../../scripts/lib/cluster.mjs'
import { createTopicsWithLeaders } from '../../src/kafka/create-topics.js'

export class TestCluster {
  readonly kafka: Kafka
  #admin: Admin | undefined

  private constructor(
    readonly settings: ClusterSettings,
    readonly started: boolean,
  ) {
    this.kafka = new Kafka({ clientId: 'kasper-fault-test', brokers: this.brokers, logLevel: logLevel.NOTHING })
  }

  /** Starts the cluster (or reuses one that runs on the port). */
  static async start(): Promise<TestCluster> {
    const settings = clusterSettings({ nodes: 3, basePort: Number(process.env.KASPER_CLUSTER_PORT ?? 19_300) })
    const { started } = await startCluster({ cluster: settings, log: (line) => process.stderr.write(`${line}\n`) })
    return new TestCluster(settings, started.length > 0)
  }

  get brokers(): string[] {
    return this.settings.bootstrap.split(',')
  }

  async admin(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.kafka.admin()
      await admin.connect()
      this.#admin = admin
    }
    return this.#admin
  }

  async createTopics(topics: readonly string[], numPartitions: number): Promise<void> {
    const admin = await this.admin()
    await createTopicsWithLeaders(
      admin,
      topics.map((topic) => ({ topic, numPartitions, replicationFactor: 3 })),
    )
  }

  /** The node leading a topic-partition now. */
  async leaderOf(topic: string, partition: number): Promise<number> {
    const admin = await this.admin()
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    const leader = topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader
    if (leader === undefined || leader < 0) throw new Error(`${topic}[${partition}] has no leader`)
    return leader
  }

  async replicasOf(topic: string): Promise<Map<number, number[]>> {
    const admin = await this.admin()
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    return new Map((topics[0]?.partitions ?? []).map((p) => [p.partitionId, [...p.replicas]]))
  }

  /** Stops a node: SIGTERM (controlled shutdown) or SIGKILL. */
  async stop(nodeId: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    this.#dropAdmin()
    await stopNode(this.settings, nodeId, { signal })
  }

  async startNode(nodeId: number): Promise<void> {
    await startNode(this.settings, nodeId)
  }

  /** Resolves once every partition of `topics` (and of the offsets topic) has a leader and all its replicas in sync. */
  async waitInSync(topics: readonly string[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      try {
        const admin = await this.admin()
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics, '__consumer_offsets'] })
        const behind = metadata.flatMap((t) =>
          t.partitions
            .filter((p) => p.leader < 0 || p.isr.length < p.replicas.length)
            .map((p) => `${t.name}[${p.partitionId}] isr ${p.isr.join(',')}`),
        )
        if (behind.length === 0) return
        last = behind.slice(0, 3).join('; ')
      } catch (error) {
        last = String(error)
        this.#dropAdmin()
      }
      await new Promise((r) => setTimeout(r, 500))
    }
    throw new Error(`replicas not in sync within ${timeoutMs} ms: ${last}`)
  }

  /** Runs one of Kafka's tools against the cluster; throws with its output when it fails. */
  tool(name: string, args: readonly string[]): string {
    const result = toolOutput(name, ['--bootstrap-server', this.brokers[0] ?? '', ...args])
    if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`)
    return result.stdout
  }

  /** Makes each listed partition's first replica its leader (Kafka's kafka-leader-election, PREFERRED). */
  preferredLeaderElection(): string {
    return this.tool('kafka-leader-election', ['--election-type', 'PREFERRED', '--all-topic-partitions'])
  }

  /** Reorders the replicas of a topic's partitions (rotating them), waits for the reassignment to finish. */
  async reassign(topic: string): Promise<Map<number, number[]>> {
    const current = await this.replicasOf(topic)
    const target = new Map([...current].map(([p, replicas]) => [p, [...replicas.slice(1), ...replicas.slice(0, 1)]]))
    const file = join(tmpdir(), `kasper-reassign-${topic}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        partitions: [...target].map(([partition, replicas]) => ({ topic, partition, replicas })),
      }),
    )
    this.tool('kafka-reassign-partitions', ['--reassignment-json-file', file, '--execute'])
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      const verify = this.tool('kafka-reassign-partitions', ['--reassignment-json-file', file, '--verify'])
      if (!/in progress/i.test(verify)) return target
      await new Promise((r) => setTimeout(r, 1000))
    }
    throw new Error(`reassignment of ${topic} did not finish within 60 s`)
  }

  /** Every committed record of a topic, read by Kafka's console consumer (readCommittedRecords). */
  async readAll(
    topic: string,
    { transactional = false } = {},
  ): Promise<{ partition: number; offset: number; key: string; value: string }[]> {
    return readCommittedRecords(this.brokers, await this.admin(), topic, { transactional })
  }

  async close(): Promise<void> {
    this.#dropAdmin()
    if (this.started && !process.env.KASPER_KEEP_BROKER)
      await stopCluster({ cluster: this.settings, removeState: true })
  }

  #dropAdmin(): void {
    const admin = this.#admin
    this.#admin = undefined
    void admin?.disconnect().catch(() => {})
  }
}

/**
 * admin.fetchTopicOffsets, asked again while a leader has just moved (a broker killed or restarted
 * a moment before: the admin's metadata still names the old leader), with its metadata refreshed.
 */
export function topicOffsets(admin: Admin, topic: string): ReturnType<Admin['fetchTopicOffsets']> {
  return pRetry(() => admin.fetchTopicOffsets(topic), {
    retries: 10,
    minTimeout: 200,
    maxTimeout: 2000,
    shouldRetry: ({ error }) => (error as { retriable?: boolean }).retriable === true,
    onFailedAttempt: async () => {
      await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined)
    },
  })
}

/**
 * Every committed record of a topic (read_committed), read by Kafka's Java console consumer, one
 * consumer per partition from its log start (no group), as { partition, offset, key, value }: an
 * audit from outside kasper-ts and kafkajs (kafkajs's own read_committed consumer was seen to return
 * aborted records). It must read as many records as the topic's offsets span; `transactional`: the
 * topic holds fewer (commit markers and aborted records take offsets too), so each consumer reads
 * until it has had nothing for `idleTimeoutMs` (10 s by default).
 */
export async function readCommittedRecords(
  brokers: readonly string[],
  admin: Admin,
  topic: string,
  options: { transactional?: boolean; idleTimeoutMs?: number } = {},
): Promise<{ partition: number; offset: number; key: string; value: string }[]> {
  const { transactional = false, idleTimeoutMs = transactional ? 10_000 : 60_000 } = options
  const bounds = await topicOffsets(admin, topic)
  const parts = await Promise.all(
    bounds.map(async ({ partition, low, high }) => {
      const expected = Number(high) - Number(low)
      if (expected === 0) return []
      const out = await toolOutputAsync('kafka-console-consumer', [
        '--bootstrap-server',
        brokers.join(','),
        '--topic',
        topic,
        '--partition',
        String(partition),
        '--offset',
        'earliest',
        '--max-messages',
        String(expected),
        '--timeout-ms',
        String(idleTimeoutMs),
        '--isolation-level',
        'read_committed',
        '--property',
        'print.partition=true',
        '--property',
        'print.offset=true',
        '--property',
        'print.key=true',
      ])
      const records: { partition: number; offset: number; key: string; value: string }[] = []
      for (const line of out.stdout.split('\n')) {
        const m = /^Partition:(\d+)\tOffset:(\d+)\t([^\t]*)\t(.*)$/.exec(line)
        if (m) records.push({ partition: Number(m[1]), offset: Number(m[2]), key: m[3] ?? '', value: m[4] ?? '' })
      }
      if (transactional ? records.length > expected : records.length !== expected) {
        throw new Error(`the audit read ${records.length} of ${expected} records of ${topic}[${partition}]`)
      }
      return records
    }),
  )
  return parts.flat()
}
