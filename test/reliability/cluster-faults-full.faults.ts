/**
 * The rest of the broker fault suite on a 3-node cluster, run by `npm run faults` (not by `npm
 * test`: about 6 minutes): a rolling restart of every broker then a kill -9, a partition
 * reassignment with preferred-leader elections, three daemons under group assignment with one
 * killed and started again, three daemons with one in a network namespace whose network is cut,
 * and one broker down for longer than the request timeout. Each under a live input, audited from
 * outside the process (cluster-faults.ts).
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, type KasperError } from '../../src/errors.js'
import { NetNamespace } from '../helpers/netns.js'
import { leaderOfBoth, rollingRestart, runFaultScenario } from './cluster-faults.js'
import { checkFigures, useFaultCluster } from './fault-report.js'
import { cutNetworkOfDaemon } from './network-cut.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cluster = useFaultCluster()

describe('broker faults on a 3-node cluster, the full set', () => {
  it('rolling restart of every broker (SIGTERM each in turn), then kill -9 of one', async () => {
    checkFigures(
      await runFaultScenario(
        cluster(),
        'rolling-restart',
        async (ctx) => {
          await rollingRestart(ctx)
          const victim = await ctx.cluster.leaderOf(ctx.input, 0)
          ctx.log(`kill -9 node ${victim}`)
          await ctx.cluster.stop(victim, 'SIGKILL')
          await sleep(3000)
          await ctx.cluster.startNode(victim)
          await ctx.cluster.waitInSync([ctx.input, ctx.output])
        },
        { partitions: 12, perTick: 100 },
      ),
    )
  }, 900_000)

  it('partition reassignment and preferred-leader elections while running', async () => {
    checkFigures(
      await runFaultScenario(cluster(), 'reassign', async (ctx) => {
        for (const topic of [ctx.input, ctx.output]) {
          ctx.log(`reassigning ${topic} (rotated replica lists)`)
          await ctx.cluster.reassign(topic)
          ctx.cluster.preferredLeaderElection()
          await sleep(2000)
        }
      }),
    )
  }, 600_000)

  it('group assignment, three daemons: kill -9 of one, the others take its share within the session timeout; started again, it takes a share back', async () => {
    const daemons = [0, 1, 2].map(() => ['--assignment', 'group', '--session-timeout-ms', '6000', '--workers', '1'])
    checkFigures(
      await runFaultScenario(
        cluster(),
        'group-three-daemons',
        async (ctx) => {
          ctx.log('kill -9 of daemon 2; its share waits for the session timeout (6 s), then moves')
          await ctx.stopDaemon(2, 'SIGKILL')
          await sleep(15_000)
          ctx.log('daemon 2 started again: the group rebalances over three members')
          ctx.startDaemon(2)
          await sleep(10_000)
          const victim = await leaderOfBoth(ctx)
          ctx.log(`kill -9 node ${victim} under the rebalanced group, then start it again`)
          await ctx.cluster.stop(victim, 'SIGKILL')
          await sleep(4000)
          await ctx.cluster.startNode(victim)
          await ctx.cluster.waitInSync([ctx.input, ctx.output])
        },
        { partitions: 6, daemons },
      ),
    )
  }, 600_000)

  it('group assignment, three daemons, one in a network namespace: its network cut for 20 s, then a broker killed', async () => {
    const ns = NetNamespace.create()
    try {
      const group = ['--assignment', 'group', '--session-timeout-ms', '6000', '--workers', '1']
      const daemons = [
        [...group, '--group-instance-id', 'cut-0'],
        [...group, '--group-instance-id', 'cut-1'],
        { args: [...group, '--group-instance-id', 'cut-ns'], netns: ns },
      ]
      const figures = await runFaultScenario(
        cluster(),
        'group-netns-cut-three',
        async (ctx) => {
          const refused = await cutNetworkOfDaemon(ctx, ns, { index: 2, instance: 'cut-ns', cutMs: 20_000 })
          expect((refused as KasperError).code).toBe(ErrorCodes.ASSIGNMENT_LOST)
          const victim = await leaderOfBoth(ctx)
          ctx.log(`kill -9 node ${victim} with the daemon back in the group, then start it again`)
          await ctx.cluster.stop(victim, 'SIGKILL')
          await sleep(4000)
          await ctx.cluster.startNode(victim)
          await ctx.cluster.waitInSync([ctx.input, ctx.output])
        },
        { partitions: 12, daemons },
      )
      checkFigures(figures)
      expect(figures.takeoverMs).toBeGreaterThan(0)
    } finally {
      ns.remove()
    }
  }, 600_000)

  it('one broker down for longer than the request timeout (35 s)', async () => {
    checkFigures(
      await runFaultScenario(cluster(), 'long-outage', async (ctx) => {
        const victim = await leaderOfBoth(ctx)
        ctx.log(`stopping node ${victim} for 35 s`)
        await ctx.cluster.stop(victim, 'SIGKILL')
        await sleep(35_000)
        await ctx.cluster.startNode(victim)
        await ctx.cluster.waitInSync([ctx.input, ctx.output])
      }),
    )
  }, 600_000)
})
