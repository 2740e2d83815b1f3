import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A private redis-server for outage tests (never the shared one): AOF with fsync always, so a
 * kill -9 and a restart keep every acknowledged write. Daemonized, its log in a temp dir.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'kasper-redis-'))
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  start(): void {
    const result = spawnSync('redis-server', [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--pidfile',
      join(this.dir, 'redis.pid'),
      '--logfile',
      join(this.dir, 'redis.log'),
    ])
    if (result.status !== 0) throw new Error(`redis-server did not start on ${this.port}`)
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG')
        return
      spawnSync('sleep', ['0.05'])
    }
    throw new Error(`redis-server on ${this.port} does not answer`)
  }

  /** kill -9: an outage with no goodbye. */
  kill(): void {
    const pid = Number(readFileSync(join(this.dir, 'redis.pid'), 'utf8'))
    process.kill(pid, 'SIGKILL')
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0)
        spawnSync('sleep', ['0.05'])
      } catch {
        return
      }
    }
  }

  stop(): void {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave'])
    rmSync(this.dir, { recursive: true, force: true })
  }
}
