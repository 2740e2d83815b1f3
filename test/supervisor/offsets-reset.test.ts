import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { parseResetTarget } from '../../src/kafka/reset-offsets.js'
import { kasper } from '../helpers/cli.js'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import { committedOffsets, committedTotal, createKafka, createTopics, produce, waitFor } from '../helpers/kafka.js'

const T0 = 1_700_000_000_000 // 2023-11-14T22:13:20Z

interface ResetJson {
  group: string
  dryRun: boolean
  partitions: { topic: string; partition: number; from: string | null; to: string; lastCommitter: string | null }[]
}

describe('parseResetTarget', () => {
  it('earliest, latest, offsets and ISO-8601 times with a zone; anything else is a ConfigError naming --to', () => {
    expect(parseResetTarget('earliest')).toEqual({ kind: 'earliest' })
    expect(parseResetTarget('latest')).toEqual({ kind: 'latest' })
    expect(parseResetTarget('42')).toEqual({ kind: 'offset', offset: 42n })
    expect(parseResetTarget('2023-11-14T22:13:22Z')).toEqual({ kind: 'time', ms: T0 + 2000 })
    expect(parseResetTarget('2023-11-14T23:13:22.500+01:00')).toEqual({ kind: 'time', ms: T0 + 2500 })
    for (const bad of ['', 'newest', '-1', '1.5', '2023-11-14', '2023-11-14T22:13:22', '2023-13-45T99:99:99Z']) {
      expect(() => parseResetTarget(bad), bad).toThrow(ConfigError)
    }
    expect(() => parseResetTarget('yesterday')).toThrow(/to: expected earliest, latest, an ISO-8601 time/)
  })
})

describe('kasper offsets reset', () => {
  it('moves committed offsets to earliest, an offset, a time and latest; --dry-run commits nothing; bad input exits 2', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 2)
    await produce(
      kafka,
      names.input,
      [0, 1].flatMap((partition) =>
        Array.from({ length: 5 }, (_, i) => ({
          value: `p${partition}-${i}`,
          partition,
          timestamp: String(T0 + i * 1000),
        })),
      ),
    )
    const env = echoJobEnv({ ...names, partitions: 2 })
    const group = `kasper-topic-processor-${names.name}`
    const run = kasper(['run', ECHO_JOB, '--workers', '1', '--metrics-port', '0'], env)
    await waitFor(async () => ((await committedTotal(kafka, group, names.input)) === 10 ? true : undefined))
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    const offsets = async () => [...(await committedOffsets(kafka, group, names.input))].sort().map(([, o]) => o)
    const reset = async (...args: string[]) => {
      const r = kasper(['offsets', 'reset', ECHO_JOB, '--watch-ms', '100', ...args], env)
      return { code: await r.exit, output: r.output() }
    }

    const dry = await reset('--to', 'earliest', '--dry-run', '--json')
    expect(dry.code).toBe(0)
    const plan = JSON.parse(dry.output) as ResetJson
    expect(plan).toMatchObject({ group, dryRun: true })
    expect(plan.partitions.map((p) => [p.partition, p.from, p.to])).toEqual([
      [0, '5', '0'],
      [1, '5', '0'],
    ])
    expect(plan.partitions[0]?.lastCommitter).toMatch(/^kasper-ts:/)
    expect(await offsets()).toEqual(['5', '5'])

    const earliest = await reset('--to', 'earliest')
    expect(earliest.code).toBe(0)
    expect(earliest.output).toMatch(/TOPIC\s+PARTITION\s+FROM\s+TO/)
    expect(await offsets()).toEqual(['0', '0'])

    expect((await reset('--to', '3', '--partitions', '1')).code).toBe(0)
    expect(await offsets()).toEqual(['0', '3'])

    // the first record at or after 22:13:22 is the third of each partition
    expect((await reset('--to', '2023-11-14T22:13:22Z')).code).toBe(0)
    expect(await offsets()).toEqual(['2', '2'])

    expect((await reset('--to', 'latest')).code).toBe(0)
    expect(await offsets()).toEqual(['5', '5'])
    const describe = kasper(['describe', ECHO_JOB, '--json'], env)
    expect(await describe.exit).toBe(0)
    const who = JSON.parse(describe.output()) as { partitions: { lastCommitter: string }[] }
    expect(who.partitions[0]?.lastCommitter).toMatch(/^offsets-reset\/[^/]+\/\d+$/)

    const badTo = await reset('--to', 'yesterday')
    expect(badTo.code).toBe(2)
    expect(badTo.output).toMatch(/--to: .*expected earliest, latest/)
    const outside = await reset('--to', '99')
    expect(outside.code).toBe(2)
    expect(outside.output).toMatch(/KASPER_OFFSET_OUT_OF_RANGE.*offset 99 is outside .*\[0\], whose log holds 0 to 5/)
    const notRead = await reset('--to', 'earliest', '--partitions', '7')
    expect(notRead.code).toBe(2)
    expect(notRead.output).toMatch(/--partitions 7: the job does not read these partitions/)
    expect(await offsets()).toEqual(['5', '5'])
  }, 90_000)

  it('is refused with KASPER_JOB_ACTIVE while an instance of the job is committing, and commits nothing', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 1)
    await produce(
      kafka,
      names.input,
      Array.from({ length: 300 }, (_, i) => ({ value: `m${i}`, partition: 0 })),
    )
    const env = echoJobEnv({ ...names, partitions: 1, mode: 'slow', slowMs: 100, batchSize: 5 })
    const group = `kasper-topic-processor-${names.name}`
    const run = kasper(['run', ECHO_JOB, '--workers', '1', '--metrics-port', '0'], env)
    await waitFor(async () => ((await committedTotal(kafka, group, names.input)) > 0 ? true : undefined))
    const refused = kasper(['offsets', 'reset', ECHO_JOB, '--to', 'earliest', '--watch-ms', '1500'], env)
    expect(await refused.exit).toBe(1)
    expect(refused.output()).toMatch(/KASPER_JOB_ACTIVE.*an instance of the job is committing.*stop it first/)
    // the job goes on undisturbed to the end (a reset under it would have stopped it: KASPER_PARTITION_OVERLAP)
    await waitFor(async () => ((await committedTotal(kafka, group, names.input)) === 300 ? true : undefined), 60_000)
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    expect(run.output()).not.toMatch(/PARTITION_OVERLAP/)
  }, 90_000)
})
