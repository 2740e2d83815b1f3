import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/index.js'
import { Supervisor } from '../../supervisor/index.js'
import { ECHO_JOB, echoJobEnv, jobNames, setEnv } from '../helpers/jobs.js'
import { committedOffsets, createKafka, createTopics, produce, readTopic, waitFor } from '../helpers/kafka.js'

const PARTITIONS = 4
const PER_PARTITION = 100

async function prepare(mode: string) {
  const kafka = createKafka()
  const names = jobNames()
  await createTopics(kafka, [names.input, names.output], PARTITIONS)
  const messages = Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) => ({
    key: `k${i}`,
    value: `v${i}`,
    partition: i % PARTITIONS,
  }))
  await produce(kafka, names.input, messages)
  const env = echoJobEnv({ ...names, partitions: PARTITIONS, mode })
  return { kafka, names, env, expected: messages.map((m) => m.value).sort() }
}

let restoreEnv: () => void = () => {}
afterEach(() => restoreEnv())

function supervise(env: Record<string, string>, options: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}) {
  restoreEnv = setEnv(env)
  const supervisor = new Supervisor({
    jobPath: ECHO_JOB,
    workers: 2,
    metricsPort: 0,
    restartBackoffMs: 100,
    logger: silentLogger,
    ...options,
  })
  return { supervisor, started: supervisor.start() }
}

async function allCommitted(kafka: ReturnType<typeof createKafka>, name: string, topic: string) {
  const committed = await committedOffsets(kafka, `kasper-topic-processor-${name}`, topic)
  return [...committed.values()].every((o) => o === String(PER_PARTITION)) && committed.size === PARTITIONS
    ? true
    : undefined
}

describe('Supervisor on the real broker', () => {
  it('runs N workers on disjoint slices, serves merged metrics with a slice label, health and readiness; delivers every output', async () => {
    const { kafka, names, env, expected } = await prepare('echo')
    const { supervisor, started } = supervise(env)
    const slicesStarted: number[][] = []
    supervisor.on('slice-started', ({ partitions }) => slicesStarted.push([...partitions]))
    await started
    await waitFor(() => allCommitted(kafka, names.name, names.input), 30_000)
    await waitFor(async () => ((await fetch(`${supervisor.metricsUrl}/readyz`)).status === 200 ? true : undefined))
    await new Promise((r) => setTimeout(r, 1200))
    const metrics = await (await fetch(`${supervisor.metricsUrl}/metrics`)).text()
    expect((await fetch(`${supervisor.metricsUrl}/healthz`)).status).toBe(200)
    const result = await supervisor.stop()
    expect(result).toEqual({ reason: 'stopped', exitCode: 0, terminated: [] })
    expect(slicesStarted.sort()).toEqual([
      [0, 1],
      [2, 3],
    ])
    expect(metrics).toContain('kasper_supervisor_workers_up 2')
    // Node's own metrics: the supervisor process's, and each worker thread's by slice
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m)
    expect(metrics).toMatch(/^kasper_worker_nodejs_heap_size_used_bytes\{slice="1"\} \d/m)
    expect(metrics).toMatch(
      new RegExp(`kasper_incoming_messages_total\\{topic="${names.input}",partition="0",slice="0"\\} ${PER_PARTITION}`),
    )
    expect(metrics).toMatch(
      new RegExp(`kasper_incoming_messages_total\\{topic="${names.input}",partition="3",slice="1"\\} ${PER_PARTITION}`),
    )
    const out = await readTopic(kafka, names.output, expected.length)
    expect(out.map((m) => m.value).sort()).toEqual(expected)
  })

  it('restarts a slice that throws, the other slice keeps running, and the job still delivers every output', async () => {
    const { kafka, names, env, expected } = await prepare('throw-once')
    const { supervisor, started } = supervise(env)
    const events: string[] = []
    supervisor.on('slice-failed', ({ slice, kind, error }) => events.push(`failed:${slice}:${kind}:${error.code}`))
    supervisor.on('slice-restarted', ({ slice, attempt }) => events.push(`restarted:${slice}:${attempt}`))
    await started
    await waitFor(() => allCommitted(kafka, names.name, names.input), 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; supervisor events: ${events.join(', ')}`)
    })
    // counters carry over the restart: the failed run's reads plus the replay's, once the new run reports
    const incoming = new RegExp(
      `kasper_incoming_messages_total\\{topic="${names.input}",partition="0",slice="0"\\} (\\d+)`,
    )
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${supervisor.metricsUrl}/metrics`)).text()
      return Number(incoming.exec(text)?.[1]) > PER_PARTITION ? text : undefined
    }, 10_000)
    expect((await supervisor.stop()).exitCode).toBe(0)
    expect(events).toEqual(['failed:0:error:KASPER_PROCESS_FAILED', 'restarted:0:1'])
    expect(metrics).toContain('kasper_supervisor_restarts_total{slice="0"} 1')
    expect(metrics).toContain('kasper_supervisor_slice_failures_total{slice="0",kind="error"} 1')
    expect(Number(incoming.exec(metrics)?.[1])).toBe(2 * PER_PARTITION)
    const out = await readTopic(kafka, names.output, expected.length)
    // nothing of the failed batch was produced: exactly one output per input
    expect(out.map((m) => m.value).sort()).toEqual(expected)
  })

  it("policy 'halt' stops every slice gracefully and ends with exit code 1", async () => {
    const { env } = await prepare('throw-always')
    const { supervisor, started } = supervise(env, { onFailure: 'halt' })
    const halted: string[] = []
    supervisor.on('halted', ({ slice, error }) => halted.push(`${slice}:${error.code}`))
    await started
    const result = await supervisor.done
    expect(result).toMatchObject({ reason: 'halted', exitCode: 1, terminated: [] })
    expect(result.error?.code).toBe('KASPER_PROCESS_FAILED')
    expect(halted).toEqual(['0:KASPER_PROCESS_FAILED'])
  })

  it('restart policy halts the job after maxRestarts within the window', async () => {
    const { env } = await prepare('throw-always')
    const { supervisor, started } = supervise(env, { maxRestarts: 2, restartBackoffMs: 50 })
    const restarts: number[] = []
    supervisor.on('slice-restarted', ({ attempt }) => restarts.push(attempt))
    await started
    const result = await supervisor.done
    expect(result.reason).toBe('halted')
    expect(result.exitCode).toBe(1)
    expect(restarts).toEqual([1, 2])
  })

  it.each([
    ['exit-once', 'exit'],
    ['uncaught-once', 'error'],
    ['oom-once', 'out_of_memory'],
  ])('detects a worker that fails by %s (%s) and restarts it; every output is delivered', async (mode, kind) => {
    const { kafka, names, env, expected } = await prepare(mode)
    const { supervisor, started } = supervise(env, { workerMaxOldGenerationMb: 64 })
    const kinds: string[] = []
    supervisor.on('slice-failed', ({ kind: k }) => kinds.push(k))
    await started
    await waitFor(() => allCommitted(kafka, names.name, names.input), 45_000)
    expect((await supervisor.stop()).exitCode).toBe(0)
    expect(kinds).toEqual([kind])
    const out = await readTopic(kafka, names.output, expected.length)
    expect([...new Set(out.map((m) => m.value))].sort()).toEqual(expected)
  })

  it('a bad job module is refused at start with a typed error', async () => {
    const supervisor = new Supervisor({
      jobPath: 'test/fixtures/jobs/does-not-exist.js',
      metricsPort: null,
      logger: silentLogger,
    })
    await expect(supervisor.start()).rejects.toMatchObject({ code: 'KASPER_JOB_INVALID' })
    expect(() => new Supervisor({ jobPath: ECHO_JOB, workers: 0 })).toThrow(/workers: workers must be > 0/)
    // a heartbeat interval that leaves no room for a missed heartbeat within the session
    expect(() => new Supervisor({ jobPath: ECHO_JOB, sessionTimeoutMs: 6000, heartbeatIntervalMs: 2500 })).toThrow(
      /heartbeatIntervalMs: heartbeatIntervalMs must be at most a third of sessionTimeoutMs/,
    )
    expect(() => new Supervisor({ jobPath: ECHO_JOB, heartbeatIntervalMs: 10 })).toThrow(
      /heartbeatIntervalMs must be >= 100/,
    )
    expect(() => new Supervisor({ jobPath: ECHO_JOB, sessionTimeoutMs: 6000, heartbeatIntervalMs: 2000 })).not.toThrow()
  })
})
