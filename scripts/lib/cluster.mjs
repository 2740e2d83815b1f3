// A local multi-node Apache Kafka cluster (KRaft, every node both broker and controller, a static
// quorum) from the same cached jars as the single broker in broker.mjs.
//
//   ports: node i (1-based) listens on basePort + 2(i-1), its controller on the port after it.
//   state: .kafka/<basePort>-x<nodes>/node-<i>/ in the checkout: data, server.properties, broker.log, pid.
//   topics created without a replication factor get min(3, nodes) replicas, min.insync.replicas 2.
//
// Every node is started detached (own session, stdio to its log file).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  brokerAnswers,
  brokerSettings,
  checkPrerequisites,
  isAlive,
  launchBroker,
  projectRoot,
  provisionJars,
  randomClusterId,
  readPid,
  stopBroker,
  waitForBroker,
} from './broker.mjs'

const template = join(projectRoot, 'scripts', 'kafka', 'cluster.properties.template')

/**
 * The address of the host end of the fault tests' veth (test/helpers/netns.ts): each node also
 * listens on port + NETNS_PORT_OFFSET for clients in that network namespace and advertises this
 * address to them.
 */
export const NETNS_HOST = '10.231.255.1'
export const NETNS_PORT_OFFSET = 50

/** Settings of an n-node cluster whose first node listens on `basePort`. */
export function clusterSettings({ nodes = 3, basePort, env = process.env } = {}) {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new Error(`--nodes must be 1 to 9, got ${nodes}`)
  const base = brokerSettings({ ...env, ...(basePort ? { KAFKA_PORT: String(basePort) } : {}) })
  const stateDir = join(projectRoot, '.kafka', `${base.port}-x${nodes}`)
  const replication = Math.min(3, nodes)
  const minIsr = Math.min(2, replication)
  const ids = Array.from({ length: nodes }, (_, i) => i + 1)
  const voters = ids.map((id) => `${id}@127.0.0.1:${base.port + 2 * (id - 1) + 1}`).join(',')
  const nodeSettings = ids.map((id) => {
    const port = base.port + 2 * (id - 1)
    const dir = join(stateDir, `node-${id}`)
    return {
      ...base,
      nodeId: id,
      port,
      controllerPort: port + 1,
      bootstrap: `127.0.0.1:${port}`,
      stateDir: dir,
      dataDir: join(dir, 'data'),
      logFile: join(dir, 'broker.log'),
      pidFile: join(dir, 'broker.pid'),
      propsFile: join(dir, 'server.properties'),
      heap: env.KAFKA_HEAP ?? '512m',
      template,
      replacements: {
        '@NODE_ID@': String(id),
        '@VOTERS@': voters,
        '@REPLICATION@': String(replication),
        '@MIN_ISR@': String(minIsr),
        '@NETNS_HOST@': NETNS_HOST,
        '@NETNS_PORT@': String(port + NETNS_PORT_OFFSET),
      },
    }
  })
  return {
    nodes: nodeSettings,
    stateDir,
    bootstrap: nodeSettings.map((n) => n.bootstrap).join(','),
    /** Bootstrap for clients inside the fault tests' network namespace. */
    netnsBootstrap: nodeSettings.map((n) => `${NETNS_HOST}:${n.port + NETNS_PORT_OFFSET}`).join(','),
    replication,
    minIsr,
  }
}

/** The cluster id shared by every node: made once per state directory. */
function clusterId(cluster) {
  const file = join(cluster.stateDir, 'cluster-id')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(cluster.stateDir, { recursive: true })
  const id = randomClusterId(cluster.nodes[0])
  writeFileSync(file, `${id}\n`)
  return id
}

/**
 * Starts every node that is not running (all at once: a quorum needs a majority), then waits until
 * each answers. Resolves with `{ bootstrap, started }`: started lists the node ids launched now.
 */
export async function startCluster({ cluster = clusterSettings(), timeoutMs = 120_000, log = console.error } = {}) {
  const [first] = cluster.nodes
  provisionJars(first, log)
  checkPrerequisites(first)
  const id = clusterId(cluster)
  const started = []
  for (const node of cluster.nodes) {
    if (isAlive(readPid(node))) continue
    if (await brokerAnswers(node.bootstrap, 1000)) {
      throw new Error(`port ${node.port} is taken by a broker this checkout did not start (node ${node.nodeId})`)
    }
    launchBroker({ ...node, clusterId: id }, log)
    started.push(node.nodeId)
  }
  await Promise.all(cluster.nodes.map((node) => waitForBroker(node, timeoutMs)))
  return { bootstrap: cluster.bootstrap, started }
}

/** Starts one node again (after stopNode) and waits until it answers. */
export async function startNode(cluster, nodeId, { timeoutMs = 120_000, log = () => {} } = {}) {
  const node = nodeOf(cluster, nodeId)
  launchBroker({ ...node, clusterId: clusterId(cluster) }, log)
  await waitForBroker(node, timeoutMs)
}

/** Stops one node: SIGTERM (a controlled shutdown) or SIGKILL. */
export function stopNode(cluster, nodeId, { signal = 'SIGTERM', timeoutMs = 60_000 } = {}) {
  return stopBroker({ settings: nodeOf(cluster, nodeId), signal, timeoutMs })
}

/** Stops every node this checkout started for the cluster; resolves with the ids stopped. */
export async function stopCluster({ cluster = clusterSettings(), removeState = false } = {}) {
  const stopped = []
  await Promise.all(
    cluster.nodes.map(async (node) => {
      if (await stopBroker({ settings: node })) stopped.push(node.nodeId)
    }),
  )
  if (removeState) rmSync(cluster.stateDir, { recursive: true, force: true })
  return stopped.sort()
}

/** Per node: its address, pid (when this checkout started it) and whether it answers. */
export async function clusterStatus(cluster = clusterSettings()) {
  return Promise.all(
    cluster.nodes.map(async (node) => {
      const pid = readPid(node)
      return {
        nodeId: node.nodeId,
        bootstrap: node.bootstrap,
        pid: isAlive(pid) ? pid : undefined,
        answers: await brokerAnswers(node.bootstrap, 1500),
      }
    }),
  )
}

function nodeOf(cluster, nodeId) {
  const node = cluster.nodes.find((n) => n.nodeId === nodeId)
  if (!node) throw new Error(`no node ${nodeId} in this cluster (nodes 1 to ${cluster.nodes.length})`)
  return node
}
