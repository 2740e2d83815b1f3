/**
 * A network cut of one daemon of a group-assignment job: the daemon runs in a network namespace
 * (test/helpers/netns.ts) and reaches the 3-node cluster only through its veth, which is taken down.
 */

import { kafkajsProtocolClient } from '../../src/kafka/client.js'
import { GenerationCell } from '../../src/kafka/generation.js'
import { silentLogger } from '../../src/logging/logger.js'
import type { NetNamespace } from '../helpers/netns.js'
import type { FaultContext, LogLine } from './cluster-faults.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Cuts the network of a daemon that runs in `ns` for `cutMs`: the other daemons must take its
 * partitions (an assignment of another instance after the cut), and once the network is back its
 * last generation must not be able to commit (the commit is sent with that generation and member
 * id, as the daemon's slices would; the broker's answer is returned: KASPER_ASSIGNMENT_LOST). Then
 * waits until the daemon has rejoined with a share.
 */
export async function cutNetworkOfDaemon(
  ctx: FaultContext,
  ns: NetNamespace,
  { index, instance, cutMs }: { index: number; instance: string; cutMs: number },
): Promise<unknown> {
  const assigned = (l: LogLine) =>
    l.msg.startsWith('assignment received') && l.groupInstanceId === instance && (l.partitions?.length ?? 0) > 0
  // the group settled: every daemon started has its share in the generation this daemon holds
  const before = await ctx.waitForLine(
    (l, all) =>
      assigned(l) &&
      !all.some((o) => o.msg.startsWith('assignment received') && (o.generationId ?? 0) > (l.generationId ?? 0)) &&
      all.filter((o) => o.msg.startsWith('assignment received') && o.generationId === l.generationId).length ===
        ctx.daemons,
    120_000,
    `daemon ${index} never got partitions in a settled group`,
  )
  ctx.log(`cutting the network of daemon ${index} (generation ${before.generationId})`)
  const cutAt = ctx.mark(`test: network of daemon ${index} cut`, { instance })
  ns.cut()
  const takeover = await ctx.waitForLine(
    (l) => l.time > cutAt && l.msg.startsWith('assignment received') && l.groupInstanceId !== instance,
    120_000,
    `no other daemon took the share of daemon ${index}`,
  )
  ctx.log(`daemon ${index}'s partitions taken over ${takeover.time - cutAt} ms after the cut`)
  await sleep(Math.max(0, cutAt + cutMs - Date.now()))
  ns.restore()
  const restoredAt = ctx.mark(`test: network of daemon ${index} restored`, { instance })
  ctx.log(`network of daemon ${index} restored`)
  const client = kafkajsProtocolClient(ctx.cluster.kafka, { unavailableTimeoutMs: 30_000, logger: silentLogger })
  const connection = await client.connect([ctx.input])
  let refused: unknown
  try {
    // the cut daemon's generation, with no newer one to wait for
    const generation = new GenerationCell({
      generationId: before.generationId as number,
      memberId: before.memberId as string,
    })
    generation.close()
    const stale = connection.offsets(ctx.group, generation)
    const partition = before.partitions?.[0] as number
    refused = await stale.commit([{ topic: ctx.input, partition, offset: '0' }]).then(
      () => 'committed',
      (error: unknown) => error,
    )
  } finally {
    await connection.close()
  }
  await ctx.waitForLine((l) => l.time > restoredAt && assigned(l), 120_000, `daemon ${index} did not rejoin`)
  ctx.log(`daemon ${index} rejoined`)
  return refused
}
