/**
 * Broker faults on a 3-node cluster (replication factor 3, min.insync.replicas 2) under a live
 * input, audited from outside the process: the quick scenario, in `npm test`. `npm run faults`
 * also runs cluster-faults-full.faults.ts (a rolling restart, a reassignment, a long outage). The
 * client seam's conformance suite runs here too, on the cluster, with a leader killed mid-way.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, type KasperError } from '../../src/errors.js'
import { kafkajsProtocolClient } from '../../src/kafka/client.js'
import { silentLogger } from '../../src/logging/logger.js'
import { NetNamespace } from '../helpers/netns.js'
import { describeClientConformance } from '../kafka/client-conformance.js'
import { type FaultContext, leaderOfBoth, runFaultScenario } from './cluster-faults.js'
import { checkFigures, useFaultCluster } from './fault-report.js'
import { cutNetworkOfDaemon } from './network-cut.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cluster = useFaultCluster()

/** kill -9 of the node leading an input and an output partition, then a controlled restart of another node. */
async function killLeaderThenRestartAnother(ctx: FaultContext): Promise<void> {
  const victim = await leaderOfBoth(ctx)
  ctx.log(`kill -9 node ${victim} (leads input and output partitions)`)
  await ctx.cluster.stop(victim, 'SIGKILL')
  await sleep(4000)
  await ctx.cluster.startNode(victim)
  await ctx.cluster.waitInSync([ctx.input, ctx.output])
  const other = (victim % 3) + 1
  ctx.log(`SIGTERM node ${other}, then start it again`)
  await ctx.cluster.stop(other, 'SIGTERM')
  await sleep(2000)
  await ctx.cluster.startNode(other)
  await ctx.cluster.waitInSync([ctx.input, ctx.output])
  ctx.log('preferred-leader election')
  ctx.cluster.preferredLeaderElection()
  await sleep(2000)
}

/**
 * Group assignment under faults: kill -9 of the node that leads partitions (and may coordinate the
 * group), a controlled restart of another, and kill -9 of one of the two daemons, which comes back
 * with the same group.instance.id.
 */
async function groupFaults(ctx: FaultContext): Promise<void> {
  await killLeaderThenRestartAnother(ctx)
  ctx.log('kill -9 of daemon 1, started again with the same instance id')
  await ctx.killDaemon(1)
  await sleep(8000)
}

describe('broker faults on a 3-node cluster, audited from outside', () => {
  it('kill -9 of a leader, a controlled restart and a leader election: nothing lost, no commit ahead of output', async () => {
    checkFigures(await runFaultScenario(cluster(), 'kill-leader', killLeaderThenRestartAnother))
  }, 600_000)

  it('group assignment: a daemon whose network is cut loses its partitions, cannot commit once back, and nothing is lost', async () => {
    const ns = NetNamespace.create()
    try {
      const group = ['--assignment', 'group', '--workers', '1', '--session-timeout-ms', '6000']
      const daemons = [
        [...group, '--group-instance-id', 'faults-host'],
        { args: [...group, '--group-instance-id', 'faults-ns'], netns: ns },
      ]
      const figures = await runFaultScenario(
        cluster(),
        'group-netns-cut',
        async (ctx) => {
          const refused = await cutNetworkOfDaemon(ctx, ns, { index: 1, instance: 'faults-ns', cutMs: 15_000 })
          expect((refused as KasperError).code).toBe(ErrorCodes.ASSIGNMENT_LOST)
        },
        { daemons },
      )
      checkFigures(figures)
      expect(figures.takeoverMs).toBeGreaterThan(0)
    } finally {
      ns.remove()
    }
  }, 600_000)

  it('exactly-once: kill -9 of a leader, a restart, an election and kill -9 of the daemon: every input has exactly one committed output', async () => {
    const figures = await runFaultScenario(
      cluster(),
      'exactly-once-kill-leader',
      async (ctx) => {
        await killLeaderThenRestartAnother(ctx)
        ctx.log('kill -9 of the daemon mid-transaction, started again (its open transaction is aborted)')
        await ctx.killDaemon(0)
        await sleep(4000)
      },
      { exactlyOnce: true },
    )
    checkFigures(figures)
    // every input record has exactly one output record in committed data
    expect(figures.outputs).toBe(figures.inputs)
  }, 600_000)

  it('group assignment: two daemons, kill -9 of a leader, a restart, kill -9 of a daemon: nothing lost, no commit ahead of output', async () => {
    const daemons = [0, 1].map((i) => ['--assignment', 'group', '--group-instance-id', `faults-${i}`, '--workers', '1'])
    checkFigures(await runFaultScenario(cluster(), 'group-kill-leader', groupFaults, { daemons }))
  }, 600_000)
})

describeClientConformance(
  'kafkajs-protocol on the 3-node cluster',
  (kafka, unavailableTimeoutMs) => kafkajsProtocolClient(kafka, { unavailableTimeoutMs, logger: silentLogger }),
  () => {
    const c = cluster()
    return {
      kafka: c.kafka,
      createTopics: (topics, partitions) => c.createTopics(topics, partitions),
      async killLeaderOf(topic, partition) {
        const leader = await c.leaderOf(topic, partition)
        await c.stop(leader, 'SIGKILL')
        return async () => {
          await c.startNode(leader)
          await c.waitInSync([topic])
        }
      },
    }
  },
  { faults: true },
)
