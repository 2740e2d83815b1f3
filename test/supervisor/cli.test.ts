import { mkdtempSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { kasper } from '../helpers/cli.js'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import {
  brokers,
  committedOffsets,
  committedTotal,
  createKafka,
  createTopics,
  produce,
  readTopic,
  waitFor,
} from '../helpers/kafka.js'

describe('kasper CLI', () => {
  it('--help lists the run options', async () => {
    const run = kasper(['run', '--help'])
    expect(await run.exit).toBe(0)
    for (const flag of [
      '--workers',
      '--partitions',
      '--on-failure',
      '--max-restarts',
      '--metrics-host',
      '--metrics-port',
      '--shutdown-timeout-ms',
    ]) {
      expect(run.output()).toContain(flag)
    }
  })

  it.each([
    [['run', ECHO_JOB, '--workers', '0'], /--workers must be an integer >= 1, got "0"/],
    [['run', ECHO_JOB, '--on-failure', 'ignore'], /Allowed choices are restart, halt/],
    [['run', ECHO_JOB, '--partitions', '3-1'], /range "3-1" goes backwards/],
    [['run'], /missing required argument 'job'/],
    [['run', 'no/such/job.js'], /cannot load job module/],
    [['frobnicate'], /unknown command/],
    [['run', ECHO_JOB, '--instance', '2'], /--instance and --instances go together/],
    [
      ['run', ECHO_JOB, '--instance', 'reach', '--instances', '3'],
      /invalid instance "reach": give N, or a name ending in -N/,
    ],
    [['run', ECHO_JOB, '--instance', '3', '--instances', '3'], /instance: instance.index must be below instance.count/],
    [['run', ECHO_JOB, '--instances', '0', '--instance', '0'], /--instances must be an integer >= 1, got "0"/],
  ])('bad usage %j exits 2 with a message naming the problem', async (args, message) => {
    const run = kasper(args, { KASPER_METRICS_PORT: '0' })
    expect(await run.exit).toBe(2)
    expect(run.output()).toMatch(message)
  })

  it('a job module that exports no job exits 2', async () => {
    const run = kasper(['run', resolve('dist/test/fixtures/jobs/helpers-only.js'), '--metrics-port', '0'])
    expect(await run.exit).toBe(2)
    expect(run.output()).toMatch(/exports no job/)
  })

  it('a job with an invalid field exits 2 naming the field', async () => {
    const run = kasper(['run', resolve('dist/test/fixtures/jobs/invalid-job.js'), '--metrics-port', '0'])
    expect(await run.exit).toBe(2)
    expect(run.output()).toMatch(/invalid job options: batchSize: batchSize must be > 0/)
  })

  it('a TypeScript job runs where Node strips types (22.6+), else exits 2 saying what to do', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 1)
    await produce(kafka, names.input, [{ key: 'k', value: 'typed' }])
    const dir = mkdtempSync(join(tmpdir(), 'kasper-ts-job-'))
    const job = join(dir, 'job.ts')
    writeFileSync(
      job,
      `import { defineJob } from ${JSON.stringify(pathToFileURL(resolve('dist/supervisor/index.js')).href)}
const output: string = ${JSON.stringify(names.output)}
export default defineJob({
  topicProcessorName: ${JSON.stringify(names.name)},
  kafka: { brokers: ${JSON.stringify(brokers())} },
  inputTopics: [${JSON.stringify(names.input)}],
  inputPartitions: [0],
  batchWaitMs: 100,
  createProcessor: () => ({
    process(messages: readonly { key: Buffer | null; value: Buffer | null }[], sender: { send(m: object): void }) {
      for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
    },
  }),
})
`,
    )
    const run = kasper(['run', job, '--workers', '1', '--metrics-port', '0'])
    if ((process.features as { typescript?: unknown }).typescript) {
      const out = await readTopic(kafka, names.output, 1, 30_000)
      run.child.kill('SIGTERM')
      expect(await run.exit).toBe(0)
      expect(out.map((m) => m.value)).toEqual(['typed'])
    } else {
      expect(await run.exit).toBe(2)
      expect(run.output()).toMatch(/does not run TypeScript\. Compile the job to JavaScript .* or use Node 22\.6\+/)
    }
  })

  it('describe prints, per input partition, the committed and end offsets, the lag and the last committer', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 2)
    await produce(
      kafka,
      names.input,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })),
    )
    const env = echoJobEnv({ ...names, partitions: 2 })
    const before = kasper(['describe', ECHO_JOB, '--json'], env)
    expect(await before.exit).toBe(0)
    const fresh = JSON.parse(before.output()) as { partitions: { committed: string | null; lag: string }[] }
    expect(fresh.partitions.map((p) => [p.committed, p.lag])).toEqual([
      [null, '5'],
      [null, '5'],
    ])
    const run = kasper(['run', ECHO_JOB, '--workers', '1', '--metrics-port', '0'], env)
    await waitFor(async () =>
      (await committedTotal(kafka, `kasper-topic-processor-${names.name}`, names.input)) === 10 ? true : undefined,
    )
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    const after = kasper(['describe', ECHO_JOB, '--json'], env)
    expect(await after.exit).toBe(0)
    const done = JSON.parse(after.output()) as {
      group: string
      partitions: {
        topic: string
        partition: number
        committed: string
        end: string
        lag: string
        lastCommitter: string
      }[]
    }
    expect(done.group).toBe(`kasper-topic-processor-${names.name}`)
    for (const p of done.partitions) {
      expect(p).toMatchObject({ topic: names.input, committed: '5', end: '5', lag: '0' })
      expect(p.lastCommitter).toMatch(/^[^/]+\/\d+\/[a-z0-9]+$/)
    }
    const table = kasper(['describe', ECHO_JOB], env)
    expect(await table.exit).toBe(0)
    expect(table.output()).toMatch(/total lag 0/)
    expect(table.output()).toMatch(/TOPIC\s+PARTITION\s+COMMITTED\s+END\s+LAG\s+LAST COMMITTED BY/)
    expect(table.output()).toMatch(/group Empty: no members \(static assignment, or no daemon of the job running\)/)
  }, 60_000)

  it('topics create makes the job’s missing input topics, once; a partition count below what the job reads exits 2', async () => {
    const names = jobNames()
    const env = echoJobEnv({ ...names, partitions: 3 })
    const tooSmall = kasper(['topics', 'create', ECHO_JOB, '--partition-count', '2'], env)
    expect(await tooSmall.exit).toBe(2)
    expect(tooSmall.output()).toMatch(/--partition-count 2 is too small: the job reads partition 2/)
    const first = kasper(['topics', 'create', ECHO_JOB], env)
    expect(await first.exit).toBe(0)
    expect(first.output()).toContain(`created ${names.input} (3 partitions, replication factor 1)`)
    const again = kasper(['topics', 'create', ECHO_JOB], env)
    expect(await again.exit).toBe(0)
    expect(again.output()).toContain(`exists  ${names.input} (3 partitions)`)
  })

  it('a redis.url that is not redis://, rediss:// or unix:// exits 2 naming the field', async () => {
    const run = kasper(['run', resolve('dist/test/fixtures/jobs/http-redis-job.js'), '--metrics-port', '0'])
    expect(await run.exit).toBe(2)
    expect(run.output()).toMatch(/redis.url: redis.url must start with redis:\/\/, rediss:\/\/ or unix:\/\//)
  })

  it('a busy --metrics-port or an unusable --metrics-host exits 2 naming the flag', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as AddressInfo).port
    try {
      const env = echoJobEnv({ ...jobNames(), partitions: 1 })
      const busy = kasper(['run', ECHO_JOB, '--metrics-port', String(port)], env)
      expect(await busy.exit).toBe(2)
      expect(busy.output()).toMatch(new RegExp(`metricsPort \\(--metrics-port\\): 127.0.0.1:${port} is already in use`))
      const host = kasper(['run', ECHO_JOB, '--metrics-host', '203.0.113.7', '--metrics-port', '0'], env)
      expect(await host.exit).toBe(2)
      expect(host.output()).toMatch(/metricsHost \(--metrics-host\): cannot listen on 203.0.113.7:0/)
    } finally {
      blocker.close()
    }
  })

  it('a partition range past any real topic exits 2 at once, without exhausting memory', async () => {
    const run = kasper(['run', ECHO_JOB, '--partitions', '0-4294967295'])
    expect(await run.exit).toBe(2)
    expect(run.output()).toMatch(/at most 100000 partitions/)
  })

  it('a slice that does not stop before --shutdown-timeout-ms is terminated and the exit code (3) says so', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 1)
    await produce(kafka, names.input, [{ value: 'x' }])
    const env = { ...echoJobEnv({ ...names, partitions: 1, mode: 'slow', slowMs: 20_000 }), KASPER_METRICS_PORT: '0' }
    const run = kasper(['run', ECHO_JOB, '--shutdown-timeout-ms', '500'], env)
    await waitFor(() => (run.output().includes('slice started') ? true : undefined), 20_000)
    await new Promise((r) => setTimeout(r, 500))
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(3)
    expect(run.output()).toMatch(/did not stop before shutdownTimeoutMs/)
    expect((await committedOffsets(kafka, `kasper-topic-processor-${names.name}`, names.input)).get(0)).toBe('-1')
  })

  it('SIGTERM mid-stream stops cleanly (exit 0), loses nothing, and a restarted daemon resumes where it stopped', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 2)
    const messages = Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 }))
    await produce(kafka, names.input, messages)
    const env = {
      ...echoJobEnv({ ...names, partitions: 2, mode: 'slow', slowMs: 150, batchSize: 20 }),
      KASPER_METRICS_PORT: '0',
    }

    const first = kasper(['run', ECHO_JOB, '--workers', '2'], env)
    const group = `kasper-topic-processor-${names.name}`
    await waitFor(async () => {
      const c = await committedOffsets(kafka, group, names.input)
      return [...c.values()].some((o) => Number(o) > 0) || undefined
    }, 30_000)
    first.child.kill('SIGTERM')
    expect(await first.exit).toBe(0)
    expect(first.output()).toMatch(/signal received: stopping gracefully/)
    const processedBefore = await committedTotal(kafka, group, names.input)
    expect(processedBefore).toBeGreaterThan(0)
    expect(processedBefore).toBeLessThan(400)

    const second = kasper(['run', ECHO_JOB, '--workers', '2'], env)
    await waitFor(async () => {
      const c = await committedOffsets(kafka, group, names.input)
      return ([...c.values()].every((o) => o === '200') && c.size === 2) || undefined
    }, 60_000)
    second.child.kill('SIGINT')
    expect(await second.exit).toBe(0)
    const out = await readTopic(kafka, names.output, 400)
    // a graceful stop commits what it produced: exactly one output per input
    expect(out.map((m) => m.value).sort()).toEqual(messages.map((m) => m.value).sort())
  })

  it('--instance i --instances n: daemons take disjoint shares of the job that together cover it; too many instances exit 2', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 4)
    const messages = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 4 }))
    await produce(kafka, names.input, messages)
    const env = { ...echoJobEnv({ ...names, partitions: 4 }), KASPER_METRICS_PORT: '0' }
    // as a StatefulSet passes them: the pod's name on the command line, or both in the environment
    const first = kasper(['run', ECHO_JOB, '--instance', 'reach-0', '--instances', '2'], env)
    const second = kasper(['run', ECHO_JOB], { ...env, KASPER_INSTANCE: 'reach-1', KASPER_INSTANCES: '2' })
    try {
      const out = await readTopic(kafka, names.output, 40)
      expect(out.map((m) => m.value).sort()).toEqual(messages.map((m) => m.value).sort())
    } finally {
      first.child.kill('SIGTERM')
      second.child.kill('SIGTERM')
    }
    expect(await first.exit).toBe(0)
    expect(await second.exit).toBe(0)
    expect(first.output()).toMatch(/"slices":\[\[0,1\]\],.*"msg":"supervisor starting"/)
    expect(second.output()).toMatch(/"slices":\[\[2,3\]\],.*"msg":"supervisor starting"/)

    const tooMany = kasper(['run', ECHO_JOB, '--instance', '0', '--instances', '5'], env)
    expect(await tooMany.exit).toBe(2)
    expect(tooMany.output()).toMatch(
      /5 instances for 4 partitions: instance 4 would have none \(run at most 4 instances\)/,
    )
  })

  it('--on-failure halt exits 1 when a slice fails', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 2)
    await produce(kafka, names.input, [{ value: 'x', partition: 0 }])
    const env = {
      ...echoJobEnv({ ...names, partitions: 2, mode: 'throw-always' }),
      KASPER_METRICS_PORT: '0',
      KASPER_TEST_LOG_LEVEL: 'info',
    }
    const run = kasper(['run', ECHO_JOB, '--workers', '2', '--on-failure', 'halt'], env)
    expect(await run.exit).toBe(1)
    expect(run.output()).toMatch(/slice \d+ failed: (KASPER_\w+: )?process\(\) failed for partition 0/)
    // one stack per failure: the worker's line carries it, the supervisor's line names the error only
    const withStack = run
      .output()
      .split('\n')
      .filter((line) => line.includes('"stack"'))
    expect(withStack).toHaveLength(1)
    expect(withStack[0]).toContain('TopicProcessor stopped on error')
  })
})
