#!/usr/bin/env node
// npm run kafka:up | kafka:down | kafka:status | kafka:tool -- <tool> [args]
//
//   up [--nodes N]   start the local broker, or an N-node KRaft cluster (replication factor 3 and
//                    min.insync.replicas 2 for new topics), reusing what already runs; wait for
//                    it and print the bootstrap list
//   down             stop every broker and cluster node this checkout started on KAFKA_PORT
//   status           say whether the broker (or each node of a cluster) answers on KAFKA_PORT
//   tool             run one of Kafka's own tools from the cached jars, e.g.
//                    npm run -s kafka:tool -- kafka-consumer-groups --list
//                    (--bootstrap-server defaults to the local broker, or the first of KAFKA_BROKERS)
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  brokerAnswers,
  brokerSettings,
  projectRoot,
  readPid,
  runTool,
  startBroker,
  stopBroker,
  TOOLS,
} from './lib/broker.mjs'
import { clusterSettings, clusterStatus, startCluster, stopCluster } from './lib/cluster.mjs'

const [command, ...rest] = process.argv.slice(2)
const settings = brokerSettings()

/** `--nodes N` (or --nodes=N); 1 when absent. */
function nodesFlag(args) {
  const i = args.findIndex((a) => a === '--nodes' || a.startsWith('--nodes='))
  if (i < 0) return 1
  const raw = args[i].includes('=') ? args[i].split('=')[1] : args[i + 1]
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`--nodes must be an integer from 1 to 9, got ${raw}`)
  return n
}

/** Node counts of the clusters this checkout has state for on KAFKA_PORT. */
function clustersOnPort() {
  try {
    return readdirSync(join(projectRoot, '.kafka'))
      .map((name) => new RegExp(`^${settings.port}-x(\\d)$`).exec(name))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
  } catch {
    return []
  }
}

try {
  switch (command) {
    case 'up': {
      if (process.env.KAFKA_BROKERS) {
        console.log(process.env.KAFKA_BROKERS)
        break
      }
      const nodes = nodesFlag(rest)
      if (nodes === 1) {
        const { bootstrap, started } = await startBroker({ settings })
        console.error(started ? `kasper: Kafka is up on ${bootstrap}` : `kasper: reusing the broker on ${bootstrap}`)
        console.log(bootstrap)
        break
      }
      const cluster = clusterSettings({ nodes })
      const { bootstrap, started } = await startCluster({ cluster })
      console.error(
        started.length > 0
          ? `kasper: a ${nodes}-node Kafka cluster is up (started node${started.length > 1 ? 's' : ''} ${started.join(', ')}); ` +
              `new topics get replication factor ${cluster.replication}, min.insync.replicas ${cluster.minIsr}`
          : `kasper: reusing the ${nodes}-node cluster`,
      )
      console.log(bootstrap)
      break
    }
    case 'down': {
      const stopped = await stopBroker({ settings })
      const lines = [
        stopped
          ? `stopped the broker on ${settings.bootstrap}`
          : `no broker of this checkout runs on ${settings.bootstrap}`,
      ]
      for (const nodes of clustersOnPort()) {
        const ids = await stopCluster({ cluster: clusterSettings({ nodes }) })
        if (ids.length > 0)
          lines.push(`stopped node${ids.length > 1 ? 's' : ''} ${ids.join(', ')} of the ${nodes}-node cluster`)
      }
      console.log(lines.join('\n'))
      break
    }
    case 'status': {
      const up = await brokerAnswers(settings.bootstrap)
      const pid = readPid(settings)
      const lines = []
      let anyUp = false
      const clusters = clustersOnPort()
      for (const nodes of clusters) {
        for (const node of await clusterStatus(clusterSettings({ nodes }))) {
          anyUp ||= node.answers
          lines.push(
            `node ${node.nodeId} of ${nodes}: ${node.answers ? 'running' : 'not running'} on ${node.bootstrap}` +
              (node.pid ? ` (pid ${node.pid})` : ''),
          )
        }
      }
      if (clusters.length === 0 || (!anyUp && up)) {
        lines.unshift(
          up ? `running on ${settings.bootstrap}${pid ? ` (pid ${pid})` : ''}` : `not running on ${settings.bootstrap}`,
        )
      }
      console.log(lines.join('\n'))
      process.exitCode = up || anyUp ? 0 : 3
      break
    }
    case 'tool': {
      const [tool, ...args] = rest
      if (!tool) {
        console.error(`usage: npm run kafka:tool -- <${Object.keys(TOOLS).join('|')}> [args]`)
        process.exitCode = 2
        break
      }
      process.exitCode = runTool(tool, args, settings)
      break
    }
    default:
      console.error('usage: node scripts/kafka.mjs up [--nodes N]|down|status|tool <name> [args]')
      process.exitCode = 2
  }
} catch (error) {
  console.error(`kasper: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
