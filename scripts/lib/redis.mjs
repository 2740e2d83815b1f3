// Redis for development, tests and the demo: REDIS_URL (default redis://127.0.0.1:6379).
// When nothing answers, start redis-server detached (installing it from Debian's packages where
// missing), with its log in .redis/ so it never holds the caller's stdout or stderr.
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { projectRoot } from './broker.mjs'

export function redisSettings(env = process.env) {
  const url = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  const port = Number(url.port || 6379)
  const stateDir = join(projectRoot, '.redis', String(port))
  return { url: url.toString(), host: url.hostname, port, stateDir, pidFile: join(stateDir, 'redis.pid') }
}

/** Sends PING and resolves true on +PONG (or an auth error, which still proves a server). */
export function redisAnswers({ host, port }, timeoutMs = 1000) {
  return new Promise((resolvePing) => {
    const socket = createConnection({ host, port })
    const done = (ok) => {
      socket.destroy()
      resolvePing(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())))
  })
}

function hasRedisServer() {
  return spawnSync('redis-server', ['--version']).status === 0
}

function installRedisServer(log) {
  log('kasper: redis-server is missing; installing it from Debian packages')
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n']
  const run = (cmd) => {
    const [bin, ...args] = [...asRoot, ...cmd]
    const result = spawnSync(bin, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    if (result.status !== 0) throw new Error(`\`${cmd.join(' ')}\` failed: ${result.stderr ?? result.error}`)
  }
  run(['apt-get', 'update', '-qq'])
  run(['apt-get', 'install', '-y', '-qq', 'redis-server'])
}

/** Ensures a Redis answers; resolves `{ url, started }`. */
export async function startRedis({ settings = redisSettings(), log = console.error } = {}) {
  if (await redisAnswers(settings)) return { url: settings.url, started: false }
  if (!['127.0.0.1', 'localhost'].includes(settings.host)) {
    throw new Error(`Redis at ${settings.url} does not answer, and it is not local, so nothing was started`)
  }
  if (!hasRedisServer()) installRedisServer(log)
  mkdirSync(settings.stateDir, { recursive: true })
  const result = spawnSync(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      String(settings.port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      settings.stateDir,
      '--pidfile',
      settings.pidFile,
      '--logfile',
      join(settings.stateDir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  )
  if (result.status !== 0) throw new Error(`redis-server did not start on port ${settings.port}`)
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(settings)) {
      log(`kasper: started redis-server on ${settings.url}`)
      return { url: settings.url, started: true }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`redis-server was started but does not answer on ${settings.url}`)
}

/** Stops a redis-server this project started (by its pid file); a machine's own Redis is left alone. */
export function stopRedis(settings = redisSettings()) {
  spawnSync('redis-cli', ['-h', settings.host, '-p', String(settings.port), 'shutdown', 'nosave'], { stdio: 'ignore' })
}
