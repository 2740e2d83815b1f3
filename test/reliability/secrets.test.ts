import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createRedisClient, silentLogger } from '../../src/index.js'
import { Supervisor } from '../../supervisor/index.js'
import { ECHO_JOB } from '../helpers/jobs.js'
import { brokers, uniqueName } from '../helpers/kafka.js'

describe('security', () => {
  it('Kafka SASL and Redis passwords never appear in the daemon’s logs or errors', async () => {
    const child = spawn(
      process.execPath,
      [
        resolve('dist/supervisor/cli/main.js'),
        'run',
        resolve('dist/test/fixtures/jobs/secret-job.js'),
        '--on-failure',
        'halt',
        '--metrics-port',
        '0',
        '--log-level',
        'debug',
      ],
      {
        env: { ...process.env, KASPER_TEST_BROKERS: brokers().join(','), KASPER_TEST_NAME: uniqueName('secret') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    // the client refuses for good (SASL against a plaintext broker): not retriable, so exit 2 at once
    expect(code).toBe(2)
    expect(output).toMatch(/slice \d+ failed/)
    expect(output).toMatch(/KASPER_CONNECT_FAILED/)
    expect(output).not.toContain('super-secret-kafka-password')
    expect(output).not.toContain('super-secret-redis-password')
  })

  it('a Redis connection error names the host, not the password', async () => {
    const error = await createRedisClient('redis://kasper:super-secret-redis-password@127.0.0.1:1').catch(
      (e: Error) => e,
    )
    expect((error as Error).message).toContain('127.0.0.1:1')
    expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain(
      'super-secret',
    )
  })

  it('the metrics server binds to 127.0.0.1 unless told otherwise', async () => {
    const supervisor = new Supervisor({
      jobPath: ECHO_JOB,
      metricsPort: 0,
      logger: silentLogger,
      restartBackoffMs: 60_000,
    })
    await supervisor.start()
    try {
      expect(supervisor.options.metricsHost).toBe('127.0.0.1')
      expect(supervisor.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect((await fetch(`${supervisor.metricsUrl}/healthz`)).status).toBe(200)
    } finally {
      await supervisor.stop()
    }
  })
})
