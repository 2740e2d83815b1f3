// A local Apache Cassandra node for the Cassandra store's tests.
//
//   jars:     resolved once from Maven Central by scripts/cassandra/pom.xml into the cache
//             (~/.cache/kasper-ts/cassandra-<version>/libs)
//   state:    .cassandra/<port>/ in the checkout (gitignored): data, commitlog, cassandra.yaml, node.log, pid
//   endpoint: CASSANDRA_HOST (default 127.0.0.1:9042); reused when something answers there
//
// The node runs detached (own session, stdio to a log file), so it never holds the caller's stdout
// or stderr open; stopCassandra() stops only a node this project started (its pid file).

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { isAlive, projectRoot } from './broker.mjs'
import { fetchJars } from './maven.mjs'

const cassandraDir = join(projectRoot, 'scripts', 'cassandra')
export const CASSANDRA_VERSION = readFileSync(join(cassandraDir, 'pom.xml'), 'utf8').match(
  /<cassandra.version>([^<]+)</,
)[1]

// Cassandra's own conf/jvm17-server.options (G1 and the module exports and opens it needs)
const JVM17 = [
  '-XX:+UseG1GC',
  '-XX:+ParallelRefProcEnabled',
  '-XX:MaxTenuringThreshold=1',
  '-XX:G1HeapRegionSize=16m',
  '-XX:MaxGCPauseMillis=300',
  '-Djdk.attach.allowAttachSelf=true',
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.attach/sun.tools.attach',
  ].flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'jdk.compiler/com.sun.tools.javac',
    'java.base/java.lang',
    'java.base/java.util',
  ].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]),
  '-Dio.netty.tryReflectionSetAccessible=true',
]

export function cassandraSettings(env = process.env) {
  const [host, portText] = (env.CASSANDRA_HOST ?? '127.0.0.1:9042').split(':')
  const port = Number(portText ?? 9042)
  const cacheRoot = env.KASPER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kasper-ts')
  const stateDir = join(projectRoot, '.cassandra', String(port))
  return {
    contactPoint: `${host}:${port}`,
    host,
    port,
    storagePort: port + 1000,
    libsDir: join(cacheRoot, `cassandra-${CASSANDRA_VERSION}`, 'libs'),
    stateDir,
    logFile: join(stateDir, 'node.log'),
    pidFile: join(stateDir, 'node.pid'),
    heap: env.CASSANDRA_HEAP ?? '512m',
  }
}

/** True when something accepts connections on the CQL port (it opens last, right before "Startup complete"). */
export function cassandraAnswers({ host, port }, timeoutMs = 1000) {
  return new Promise((resolveAnswer) => {
    const socket = createConnection({ host, port })
    const done = (ok) => {
      socket.destroy()
      resolveAnswer(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => done(true))
  })
}

/** Resolves Cassandra's jars into the cache (once). */
export function provisionCassandra(settings = cassandraSettings(), log = console.error) {
  fetchJars({
    pom: join(cassandraDir, 'pom.xml'),
    libsDir: settings.libsDir,
    name: 'Apache Cassandra',
    version: CASSANDRA_VERSION,
    log,
  })
}

/** Ensures a Cassandra node answers; resolves `{ contactPoint, started }`. */
export async function startCassandra({ settings = cassandraSettings(), log = console.error } = {}) {
  if (await cassandraAnswers(settings)) return { contactPoint: settings.contactPoint, started: false }
  if (!['127.0.0.1', 'localhost'].includes(settings.host)) {
    throw new Error(
      `Cassandra at ${settings.contactPoint} does not answer, and it is not local, so nothing was started`,
    )
  }
  provisionCassandra(settings, log)
  mkdirSync(settings.stateDir, { recursive: true })
  const yaml = readFileSync(join(cassandraDir, 'cassandra.yaml.template'), 'utf8')
    .replaceAll('@STORAGE_PORT@', String(settings.storagePort))
    .replaceAll('@NATIVE_PORT@', String(settings.port))
    .replaceAll('@STATE_DIR@', settings.stateDir)
  const config = join(settings.stateDir, 'cassandra.yaml')
  writeFileSync(config, yaml)
  log(`kasper: starting Cassandra ${CASSANDRA_VERSION} on ${settings.contactPoint} (log: ${settings.logFile})`)
  const jamm = readdirJamm(settings.libsDir)
  const out = openSync(settings.logFile, 'a')
  const child = spawn(
    'java',
    [
      `-Xms${settings.heap}`,
      `-Xmx${settings.heap}`,
      ...JVM17,
      '-XX:+ExitOnOutOfMemoryError',
      `-javaagent:${jamm}`,
      `-Dcassandra.config=file://${config}`,
      `-Dlogback.configurationFile=${join(cassandraDir, 'logback.xml')}`,
      `-Dcassandra.storagedir=${settings.stateDir}`,
      '-Dcassandra.skip_wait_for_gossip_to_settle=0',
      '-Dcassandra-foreground=yes',
      '-cp',
      `${settings.libsDir}/*`,
      'org.apache.cassandra.service.CassandraDaemon',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  )
  child.unref()
  writeFileSync(settings.pidFile, String(child.pid))
  for (let i = 0; i < 360; i++) {
    if (await cassandraAnswers(settings)) return { contactPoint: settings.contactPoint, started: true }
    if (!isAlive(child.pid)) break
    await new Promise((r) => setTimeout(r, 250))
  }
  const tail = existsSync(settings.logFile)
    ? readFileSync(settings.logFile, 'utf8').split('\n').slice(-15).join('\n')
    : ''
  throw new Error(`Cassandra did not answer on ${settings.contactPoint}; the end of its log:\n${tail}`)
}

function readdirJamm(libsDir) {
  const jar = readdirSync(libsDir).find((f) => /^jamm-.*\.jar$/.test(f))
  if (!jar) throw new Error(`no jamm jar in ${libsDir}: remove the directory and provision again`)
  return join(libsDir, jar)
}

/** Stops the node this project started (SIGTERM, then SIGKILL after 20 s); a machine's own server is left alone. */
export async function stopCassandra(settings = cassandraSettings(), signal = 'SIGTERM') {
  if (!existsSync(settings.pidFile)) return false
  const pid = Number(readFileSync(settings.pidFile, 'utf8'))
  rmSync(settings.pidFile, { force: true })
  if (!isAlive(pid)) return false
  process.kill(pid, signal)
  for (let i = 0; i < 80 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 250))
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  return true
}
