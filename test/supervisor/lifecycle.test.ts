import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/index.js'
import { Supervisor } from '../../supervisor/index.js'
import { kasper } from '../helpers/cli.js'
import { ECHO_JOB, echoJobEnv, jobNames, setEnv } from '../helpers/jobs.js'
import { createKafka, createTopics, produce } from '../helpers/kafka.js'

let restoreEnv: () => void = () => {}
afterEach(() => restoreEnv())

async function prepare(mode: string, partitions = 2, count = 20, slowMs?: number) {
  const kafka = createKafka()
  const names = jobNames()
  await createTopics(kafka, [names.input, names.output], partitions)
  await produce(
    kafka,
    names.input,
    Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % partitions })),
  )
  return { kafka, names, env: echoJobEnv({ ...names, partitions, mode, ...(slowMs ? { slowMs } : {}) }) }
}

describe('Supervisor lifecycle', () => {
  it('a slice that reported failure while a timer keeps its thread alive is handled (halt within seconds)', async () => {
    const { env } = await prepare('throw-keep-alive')
    restoreEnv = setEnv(env)
    const supervisor = new Supervisor({
      jobPath: ECHO_JOB,
      workers: 1,
      metricsPort: null,
      onFailure: 'halt',
      logger: silentLogger,
    })
    const failed: string[] = []
    supervisor.on('slice-failed', ({ kind }) => failed.push(kind))
    const t0 = Date.now()
    await supervisor.start()
    const result = await supervisor.done
    expect(result.reason).toBe('halted')
    expect(result.exitCode).toBe(1)
    expect(result.error?.message).toMatch(/injected failure/)
    expect(failed).toEqual(['error'])
    expect(Date.now() - t0).toBeLessThan(15_000)
  }, 30_000)

  it('a slice with input waiting and no batch completed for stallTimeoutMs is stalled: counted, ended, handled by policy', async () => {
    // process() takes 20 s per batch of 50, 100 messages per partition: input waits, nothing completes
    const { env } = await prepare('slow', 1, 100, 20_000)
    restoreEnv = setEnv(env)
    const supervisor = new Supervisor({
      jobPath: ECHO_JOB,
      workers: 1,
      metricsPort: 0,
      metricsIntervalMs: 200,
      stallTimeoutMs: 1500,
      onFailure: 'halt',
      shutdownTimeoutMs: 1000,
      logger: silentLogger,
    })
    const failed: { kind: string; code?: string }[] = []
    supervisor.on('slice-failed', ({ kind, error }) => failed.push({ kind, code: error.code }))
    await supervisor.start()
    const result = await supervisor.done
    expect(failed).toEqual([{ kind: 'stalled', code: 'KASPER_SLICE_STALLED' }])
    expect(result).toMatchObject({ reason: 'halted', exitCode: 1 })
    expect(result.error?.message).toMatch(
      /completed no batch for \d+ ms with 50 messages waiting \(stallTimeoutMs 1500\)/,
    )
    expect(await supervisor.metrics.render()).toContain('kasper_supervisor_slice_stalls_total{slice="0"} 1')
  }, 30_000)

  it('stop() before start(): start() then does nothing and the result is a clean stop', async () => {
    const supervisor = new Supervisor({ jobPath: ECHO_JOB, workers: 1, metricsPort: 0, logger: silentLogger })
    expect(await supervisor.stop()).toEqual({ reason: 'stopped', exitCode: 0, terminated: [] })
    await supervisor.start()
    expect(supervisor.health().slices).toEqual([])
    expect(supervisor.metricsUrl).toBeUndefined()
  })

  it('stop() during start() waits for start-up, launches no thread and leaves no server', async () => {
    const { env } = await prepare('echo')
    restoreEnv = setEnv(env)
    const supervisor = new Supervisor({ jobPath: ECHO_JOB, workers: 2, metricsPort: 0, logger: silentLogger })
    const started: number[] = []
    supervisor.on('slice-started', ({ slice }) => started.push(slice))
    const starting = supervisor.start()
    const stopping = supervisor.stop()
    await starting
    expect(await stopping).toEqual({ reason: 'stopped', exitCode: 0, terminated: [] })
    expect(supervisor.health().slices).toEqual([])
    await new Promise((r) => setTimeout(r, 1500))
    expect(started).toEqual([])
  })

  it('a non-retriable error (partitions the topic does not have) halts at once with exit 2, under the restart policy', async () => {
    const { env } = await prepare('echo', 4)
    const t0 = Date.now()
    const run = kasper(['run', ECHO_JOB, '--partitions', '0-9', '--metrics-port', '0', '--on-failure', 'restart'], env)
    expect(await run.exit).toBe(2)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(run.output()).toMatch(/KASPER_PARTITION_NOT_FOUND|partitions 4, 5, 6, 7, 8, 9 do not exist/)
    expect(run.output()).toMatch(/not retriable: halting the job \(exit 2\)/)
    expect(run.output()).not.toMatch(/restarting slice/)
  }, 30_000)

  for (const afterMs of [150, 500, 1200]) {
    it(`SIGTERM ${afterMs} ms after launch stops gracefully: a log line and exit 0`, async () => {
      const { env } = await prepare('echo')
      const run = kasper(['run', ECHO_JOB, '--workers', '2', '--metrics-port', '0'], env)
      await new Promise((r) => setTimeout(r, afterMs))
      run.child.kill('SIGTERM')
      expect(await run.exit).toBe(0)
      expect(run.output()).toMatch(/signal received: stopping gracefully/)
      expect(run.output()).toMatch(/supervisor stopped/)
    }, 30_000)
  }
})
