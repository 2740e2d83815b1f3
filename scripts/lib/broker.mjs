// A local single-node Apache Kafka broker (KRaft) run from Kafka's own jars.
//
//   jars:  resolved once from Maven Central by scripts/kafka/pom.xml into a cache outside the
//          checkout (~/.cache/kasper-ts/kafka-<version>), shared by every clone on the machine.
//   state: .kafka/<port>/ in the checkout (gitignored): data, server.properties, broker.log, pid.
//
// The broker is started detached (own session, stdio to a log file), so it never holds the
// caller's stdout or stderr open.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fetchJars, jarsComplete } from './maven.mjs'

const here = dirname(fileURLToPath(import.meta.url))
export const projectRoot = resolve(here, '..', '..')
const kafkaDir = join(projectRoot, 'scripts', 'kafka')

export const KAFKA_VERSION = readFileSync(join(kafkaDir, 'pom.xml'), 'utf8').match(/<kafka.version>([^<]+)</)[1]

/** Command-line tools of Kafka, by the name of their bin/*.sh wrapper. */
export const TOOLS = {
  'kafka-topics': 'org.apache.kafka.tools.TopicCommand',
  'kafka-consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'kafka-producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  'kafka-consumer-perf-test': 'org.apache.kafka.tools.ConsumerPerformance',
  'kafka-console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'kafka-console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'kafka-get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'kafka-configs': 'org.apache.kafka.tools.ConfigCommand',
  'kafka-storage': 'kafka.tools.StorageTool',
  'kafka-leader-election': 'org.apache.kafka.tools.LeaderElectionCommand',
  'kafka-reassign-partitions': 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
}

/** Tools that take the broker address another way (producer-perf-test: --producer-props bootstrap.servers=...). */
const NO_BOOTSTRAP = new Set(['kafka-storage', 'kafka-producer-perf-test'])

export function brokerSettings(env = process.env) {
  const port = Number(env.KAFKA_PORT ?? 9092)
  if (!Number.isInteger(port) || port <= 0 || port > 65534) {
    throw new Error(`KAFKA_PORT must be a port number, got ${JSON.stringify(env.KAFKA_PORT)}`)
  }
  const cacheRoot = env.KASPER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kasper-ts')
  const stateDir = join(projectRoot, '.kafka', String(port))
  return {
    port,
    controllerPort: port + 1,
    bootstrap: `127.0.0.1:${port}`,
    libsDir: join(cacheRoot, `kafka-${KAFKA_VERSION}`, 'libs'),
    stateDir,
    dataDir: join(stateDir, 'data'),
    logFile: join(stateDir, 'broker.log'),
    pidFile: join(stateDir, 'broker.pid'),
    propsFile: join(stateDir, 'server.properties'),
    heap: env.KAFKA_HEAP ?? '768m',
  }
}

/** Fails with one clear line when Java 17+ (or Maven, when jars are still missing) is absent. */
export function checkPrerequisites(settings = brokerSettings()) {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' })
  if (java.error || java.status !== 0) {
    throw new Error('Java 17+ is required to run the local Kafka broker, and `java` was not found on PATH')
  }
  const major = Number((java.stderr.match(/version "(\d+)/) ?? [])[1])
  if (!(major >= 17)) {
    throw new Error(`Java 17+ is required to run Kafka ${KAFKA_VERSION}; found Java ${major || 'unknown'}`)
  }
  if (!jarsReady(settings)) {
    const mvn = spawnSync('mvn', ['--version'], { encoding: 'utf8' })
    if (mvn.error || mvn.status !== 0) {
      throw new Error(
        'Maven is required once to fetch the Kafka jars from Maven Central, and `mvn` was not found on PATH',
      )
    }
  }
}

function jarsReady(settings) {
  return jarsComplete(settings.libsDir)
}

/** Resolves Kafka's jars into the cache (once). */
export function provisionJars(settings = brokerSettings(), log = console.error) {
  if (jarsReady(settings)) return settings.libsDir
  checkPrerequisites(settings)
  fetchJars({
    pom: join(kafkaDir, 'pom.xml'),
    libsDir: settings.libsDir,
    name: 'Apache Kafka',
    version: KAFKA_VERSION,
    log,
  })
  return settings.libsDir
}

function javaArgs(settings, mainClass, args) {
  return [
    `-Dlog4j2.configurationFile=${join(kafkaDir, 'log4j2.yaml')}`,
    '-cp',
    `${settings.libsDir}/*`,
    mainClass,
    ...args,
  ]
}

/** Runs one of Kafka's command-line tools from the cached jars; returns its exit code. */
export function runTool(name, args, settings = brokerSettings()) {
  return spawnTool(name, args, settings, 'inherit').status ?? 1
}

/** Runs one of Kafka's tools and returns `{ status, stdout, stderr }` (for tests and benchmarks). */
export function toolOutput(name, args, settings = brokerSettings()) {
  const result = spawnTool(name, args, settings, 'pipe')
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' }
}

function toolCommand(name, args, settings) {
  const mainClass = TOOLS[name] ?? (name.includes('.') ? name : undefined)
  if (!mainClass) {
    throw new Error(`unknown Kafka tool "${name}"; known: ${Object.keys(TOOLS).join(', ')}`)
  }
  provisionJars(settings)
  const needsBootstrap = !NO_BOOTSTRAP.has(name) && !args.includes('--bootstrap-server')
  const bootstrap = process.env.KAFKA_BROKERS ? process.env.KAFKA_BROKERS.split(',')[0] : settings.bootstrap
  const fullArgs = needsBootstrap ? ['--bootstrap-server', bootstrap, ...args] : args
  return ['-Xmx256m', ...javaArgs(settings, mainClass, fullArgs)]
}

function spawnTool(name, args, settings, stdio) {
  return spawnSync('java', toolCommand(name, args, settings), { stdio, encoding: 'utf8' })
}

/** Like toolOutput, without blocking the event loop (several tools can run at once). */
export function toolOutputAsync(name, args, settings = brokerSettings()) {
  return new Promise((resolvePromise) => {
    const child = spawn('java', toolCommand(name, args, settings), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.once('close', (status) => resolvePromise({ status: status ?? 1, stdout, stderr }))
  })
}

export function readPid(settings) {
  if (!existsSync(settings.pidFile)) return undefined
  const pid = Number(readFileSync(settings.pidFile, 'utf8').trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

export function isAlive(pid) {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** True when a broker answers a metadata request at `bootstrap`. */
export async function brokerAnswers(bootstrap, timeoutMs = 3000) {
  const { Kafka, logLevel } = await import('kafkajs')
  const admin = new Kafka({
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    await admin.describeCluster()
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

function writeProperties(settings) {
  const template = readFileSync(settings.template ?? join(kafkaDir, 'server.properties.template'), 'utf8')
  let props = template
    .replaceAll('@PORT@', String(settings.port))
    .replaceAll('@CONTROLLER_PORT@', String(settings.controllerPort))
    .replaceAll('@DATA_DIR@', settings.dataDir)
  for (const [name, value] of Object.entries(settings.replacements ?? {})) props = props.replaceAll(name, value)
  writeFileSync(settings.propsFile, props)
}

function formatStorage(settings) {
  if (existsSync(join(settings.dataDir, 'meta.properties'))) return
  const clusterId = settings.clusterId ?? randomClusterId(settings)
  // a node of a multi-node cluster names its static quorum in controller.quorum.voters
  const quorum = settings.clusterId ? [] : ['--standalone']
  execFileSync(
    'java',
    javaArgs(settings, 'kafka.tools.StorageTool', [
      'format',
      ...quorum,
      '-t',
      clusterId,
      '-c',
      settings.propsFile,
      '--ignore-formatted',
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
}

/** A new KRaft cluster id, from Kafka's own storage tool. */
export function randomClusterId(settings) {
  return execFileSync('java', javaArgs(settings, 'kafka.tools.StorageTool', ['random-uuid']), {
    encoding: 'utf8',
  }).trim()
}

/**
 * Starts the broker unless one already answers on the port. Resolves with
 * `{ bootstrap, started }`: started is false when a running broker was reused.
 */
export async function startBroker({ settings = brokerSettings(), timeoutMs = 90_000, log = console.error } = {}) {
  if (await brokerAnswers(settings.bootstrap, 1500)) return { bootstrap: settings.bootstrap, started: false }
  launchBroker(settings, log)
  await waitForBroker(settings, timeoutMs)
  return { bootstrap: settings.bootstrap, started: true }
}

/** Starts the broker process detached unless this checkout's one is alive; returns at once. */
export function launchBroker(settings, log = console.error) {
  const running = readPid(settings)
  if (!isAlive(running)) {
    provisionJars(settings, log)
    checkPrerequisites(settings)
    mkdirSync(settings.dataDir, { recursive: true })
    writeProperties(settings)
    formatStorage(settings)
    const out = openSync(settings.logFile, 'a')
    const child = spawn(
      'java',
      [
        `-Xmx${settings.heap}`,
        `-Xms${settings.heap}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        ...javaArgs(settings, 'kafka.Kafka', [settings.propsFile]),
      ],
      { detached: true, stdio: ['ignore', out, out] },
    )
    child.unref()
    writeFileSync(settings.pidFile, `${child.pid}\n`)
    log(`kasper: starting Kafka ${KAFKA_VERSION} on ${settings.bootstrap} (log: ${settings.logFile})`)
  }
}

/** Resolves once the broker answers a metadata request; rejects when it exits or times out. */
export async function waitForBroker(settings, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await brokerAnswers(settings.bootstrap, 1500)) return
    if (!isAlive(readPid(settings))) {
      const tail = existsSync(settings.logFile) ? readFileSync(settings.logFile, 'utf8').slice(-2000) : ''
      throw new Error(`the Kafka broker exited during start-up; last lines of ${settings.logFile}:\n${tail}`)
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(
    `the Kafka broker did not answer on ${settings.bootstrap} within ${timeoutMs} ms (see ${settings.logFile})`,
  )
}

/**
 * Stops the broker started from this checkout on this port; resolves true when one was stopped.
 * `signal: 'SIGKILL'` kills it at once (fault tests).
 */
export async function stopBroker({ settings = brokerSettings(), timeoutMs = 30_000, signal = 'SIGTERM' } = {}) {
  const pid = readPid(settings)
  if (!isAlive(pid)) {
    rmSync(settings.pidFile, { force: true })
    return false
  }
  process.kill(pid, signal)
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100))
  rmSync(settings.pidFile, { force: true })
  return true
}
