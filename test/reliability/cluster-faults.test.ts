/**
 * Broker faults on a 3-node cluster (replication factor 3, min.insync.replicas 2) under a live
 * input, audited from outside the process. `npm test` runs the quick scenario; `npm run faults`
 * (KASPER_FAULT_CLUSTER=all) runs every scenario and records the figures.
 */
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCluster } from '../helpers/cluster.js'
import {
  type FaultContext,
  type FaultFigures,
  leaderOfBoth,
  rollingRestart,
  runFaultScenario,
} from './cluster-faults.js'

const all = process.env.KASPER_FAULT_CLUSTER === 'all'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let cluster: TestCluster
const report: FaultFigures[] = []

beforeAll(async () => {
  cluster = await TestCluster.start()
}, 240_000)

afterAll(async () => {
  if (process.env.KASPER_FAULT_CLUSTER_REPORT && report.length > 0) {
    writeFileSync(process.env.KASPER_FAULT_CLUSTER_REPORT, `${JSON.stringify(report, null, 2)}\n`)
  }
  await cluster?.close()
}, 120_000)

function check(figures: FaultFigures): void {
  process.stderr.write(`${JSON.stringify(figures)}\n`)
  report.push(figures)
  expect(figures.inputs).toBeGreaterThan(0)
  expect(figures.lost).toBe(0)
  expect(figures.committedAheadOfOutput).toBe(0)
  expect(figures.commitsAtEnd).toBe(true)
  expect(figures.unexpectedOutputs).toBe(0)
  expect(figures.outputs).toBe(figures.distinctInputs + figures.duplicates)
}

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

describe('broker faults on a 3-node cluster, audited from outside', () => {
  it('kill -9 of a leader, a controlled restart and a leader election: nothing lost, no commit ahead of output', async () => {
    check(await runFaultScenario(cluster, 'kill-leader', killLeaderThenRestartAnother))
  }, 600_000)

  it.runIf(all)(
    'rolling restart of every broker (SIGTERM each in turn), then kill -9 of one',
    async () => {
      check(
        await runFaultScenario(
          cluster,
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
    },
    900_000,
  )

  it.runIf(all)(
    'partition reassignment and preferred-leader elections while running',
    async () => {
      check(
        await runFaultScenario(cluster, 'reassign', async (ctx) => {
          for (const topic of [ctx.input, ctx.output]) {
            ctx.log(`reassigning ${topic} (rotated replica lists)`)
            await ctx.cluster.reassign(topic)
            ctx.cluster.preferredLeaderElection()
            await sleep(2000)
          }
        }),
      )
    },
    600_000,
  )

  it.runIf(all)(
    'one broker down for longer than the request timeout (35 s)',
    async () => {
      check(
        await runFaultScenario(cluster, 'long-outage', async (ctx) => {
          const victim = await leaderOfBoth(ctx)
          ctx.log(`stopping node ${victim} for 35 s`)
          await ctx.cluster.stop(victim, 'SIGKILL')
          await sleep(35_000)
          await ctx.cluster.startNode(victim)
          await ctx.cluster.waitInSync([ctx.input, ctx.output])
        }),
      )
    },
    600_000,
  )
})
