// A local OpenSearch node (it answers the Elasticsearch REST API) for the search-index store's tests.
//
//   jars:     resolved once from Maven Central by scripts/opensearch/pom.xml into the cache
//             (~/.cache/kasper-ts/opensearch-<version>), with the launcher compiled there by javac
//   state:    .opensearch/<port>/ in the checkout (gitignored): data, logs, node.log, pid
//   endpoint: OPENSEARCH_URL (default http://127.0.0.1:9200); reused when something answers there
//
// The node runs detached (own session, stdio to a log file), so it never holds the caller's
// stdout or stderr open; stopOpenSearch() stops only a node this project started (its pid file).

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { isAlive, projectRoot } from './broker.mjs'
import { fetchJars } from './maven.mjs'

const osDir = join(projectRoot, 'scripts', 'opensearch')
export const OPENSEARCH_VERSION = readFileSync(join(osDir, 'pom.xml'), 'utf8').match(/<opensearch.version>([^<]+)</)[1]

export function openSearchSettings(env = process.env) {
  const url = new URL(env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200')
  const port = Number(url.port || 9200)
  const cacheRoot = env.KASPER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kasper-ts')
  const home = join(cacheRoot, `opensearch-${OPENSEARCH_VERSION}`)
  const stateDir = join(projectRoot, '.opensearch', String(port))
  return {
    url: url.toString().replace(/\/$/, ''),
    host: url.hostname,
    port,
    transportPort: port + 100,
    libsDir: join(home, 'libs'),
    launcherDir: join(home, 'launcher'),
    stateDir,
    logFile: join(stateDir, 'node.log'),
    pidFile: join(stateDir, 'node.pid'),
    heap: env.OPENSEARCH_HEAP ?? '512m',
  }
}

/** True when an Elasticsearch-compatible server answers at the URL. */
export async function openSearchAnswers({ url }, timeoutMs = 1000) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const body = await response.json()
    return typeof body?.version?.number === 'string'
  } catch {
    return false
  }
}

/** Resolves OpenSearch's jars and compiles the launcher into the cache (once). */
export function provisionOpenSearch(settings = openSearchSettings(), log = console.error) {
  fetchJars({
    pom: join(osDir, 'pom.xml'),
    libsDir: settings.libsDir,
    name: 'OpenSearch',
    version: OPENSEARCH_VERSION,
    log,
  })
  const source = join(osDir, 'KasperOpenSearch.java')
  const stamp = join(settings.launcherDir, '.source')
  const current = readFileSync(source, 'utf8')
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== current) {
    mkdirSync(settings.launcherDir, { recursive: true })
    const javac = spawnSync('javac', ['-cp', `${settings.libsDir}/*`, '-d', settings.launcherDir, source], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    if (javac.status !== 0) throw new Error(`javac could not compile the OpenSearch launcher:\n${javac.stderr}`)
    writeFileSync(stamp, current)
  }
}

/** Ensures an OpenSearch node answers; resolves `{ url, started }`. */
export async function startOpenSearch({ settings = openSearchSettings(), log = console.error } = {}) {
  if (await openSearchAnswers(settings)) return { url: settings.url, started: false }
  if (!['127.0.0.1', 'localhost'].includes(settings.host)) {
    throw new Error(`OpenSearch at ${settings.url} does not answer, and it is not local, so nothing was started`)
  }
  provisionOpenSearch(settings, log)
  mkdirSync(settings.stateDir, { recursive: true })
  log(`kasper: starting OpenSearch ${OPENSEARCH_VERSION} on ${settings.url} (log: ${settings.logFile})`)
  const out = openSync(settings.logFile, 'a')
  const child = spawn(
    'java',
    [
      `-Xms${settings.heap}`,
      `-Xmx${settings.heap}`,
      '-XX:+UseG1GC',
      '-Xss1m',
      '-Djava.locale.providers=SPI,COMPAT',
      '-XX:+ExitOnOutOfMemoryError',
      `-Dlog4j2.configurationFile=${join(osDir, 'log4j2.properties')}`,
      '-cp',
      `${settings.libsDir}/*:${settings.launcherDir}`,
      'KasperOpenSearch',
      join(settings.stateDir, 'home'),
      String(settings.port),
      String(settings.transportPort),
    ],
    { detached: true, stdio: ['ignore', out, out] },
  )
  child.unref()
  writeFileSync(settings.pidFile, String(child.pid))
  for (let i = 0; i < 240; i++) {
    if (await openSearchAnswers(settings)) {
      // a restarted node answers before its indices' shards are back: wait for them (yellow: no replica on one node)
      await fetch(`${settings.url}/_cluster/health?wait_for_status=yellow&timeout=60s`, {
        signal: AbortSignal.timeout(65_000),
      })
      return { url: settings.url, started: true }
    }
    if (!isAlive(child.pid)) break
    await new Promise((r) => setTimeout(r, 250))
  }
  const tail = existsSync(settings.logFile)
    ? readFileSync(settings.logFile, 'utf8').split('\n').slice(-15).join('\n')
    : ''
  throw new Error(`OpenSearch did not answer on ${settings.url}; the end of its log:\n${tail}`)
}

/** Stops the node this project started (SIGTERM, then SIGKILL after 20 s); a machine's own server is left alone. */
export async function stopOpenSearch(settings = openSearchSettings()) {
  if (!existsSync(settings.pidFile)) return false
  const pid = Number(readFileSync(settings.pidFile, 'utf8'))
  rmSync(settings.pidFile, { force: true })
  if (!isAlive(pid)) return false
  process.kill(pid, 'SIGTERM')
  for (let i = 0; i < 80 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 250))
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  return true
}
