// Fetching a server's jars from Maven Central into the cache, once: shared by the Kafka broker,
// OpenSearch and Cassandra scripts (each has a pom.xml listing what it needs).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** True once `libsDir` holds a complete copy (a `.complete` stamp written after Maven succeeded). */
export function jarsComplete(libsDir) {
  return existsSync(join(libsDir, '.complete'))
}

/**
 * Copies the runtime dependencies of `pom` into `libsDir` unless they are there already; an
 * interrupted copy is started over. `name` and `version` are for the log line and the error.
 */
export function fetchJars({ pom, libsDir, name, version, log }) {
  if (jarsComplete(libsDir)) return
  log(`kasper: fetching ${name} ${version} jars from Maven Central into ${libsDir}`)
  rmSync(libsDir, { recursive: true, force: true })
  mkdirSync(libsDir, { recursive: true })
  const mvn = spawnSync(
    'mvn',
    ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${libsDir}`, '-DincludeScope=runtime'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  if (mvn.status !== 0) throw new Error(`Maven could not resolve the ${name} jars:\n${mvn.stdout}${mvn.stderr}`)
  writeFileSync(join(libsDir, '.complete'), `${version}\n`)
}
