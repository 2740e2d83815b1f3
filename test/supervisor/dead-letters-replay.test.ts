/**
 * Dead letters end to end through the daemon: a job with onProcessError 'dead-letter' sets poison
 * messages aside; `kasper dead-letters replay` (dry run, then for real) puts them back on their
 * source partitions with their coordinates in headers, once; the fixed job then processes them.
 */
import { describe, expect, it } from 'vitest'
import { kasper } from '../helpers/cli.js'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import { committedTotal, createKafka, createTopics, endOffsets, produce, readTopic, waitFor } from '../helpers/kafka.js'

interface ReplayJson {
  deadLetterTopic: string
  dryRun: boolean
  group: string
  replayed: number
  byTopic: Record<string, number>
}

describe('kasper dead-letters replay', () => {
  it('replays dead letters to their source partitions once; the fixed job then processes them; bad input exits 2', async () => {
    const kafka = createKafka()
    const names = jobNames()
    const dlq = `${names.name}.dlq`
    await createTopics(kafka, [names.input, names.output, dlq], 2)
    const inputs = [0, 1].flatMap((partition) =>
      Array.from({ length: 10 }, (_, i) => ({
        key: `p${partition}-${i}`,
        value: i === 4 ? `poison-p${partition}` : `p${partition}-${i}`,
        partition,
      })),
    )
    await produce(kafka, names.input, inputs)
    const env = {
      ...echoJobEnv({ ...names, partitions: 2 }),
      KASPER_TEST_MODE: 'poison',
      KASPER_TEST_ON_PROCESS_ERROR: 'dead-letter',
    }
    const group = `kasper-topic-processor-${names.name}`
    const daemon = async (extra: Record<string, string>, total: number) => {
      const run = kasper(['run', ECHO_JOB, '--workers', '1', '--metrics-port', '0'], { ...env, ...extra })
      await waitFor(
        async () => ((await committedTotal(kafka, group, names.input)) === total ? true : undefined),
        60_000,
      )
      run.child.kill('SIGTERM')
      expect(await run.exit).toBe(0)
    }
    await daemon({}, 20)
    expect([...(await endOffsets(kafka, dlq)).values()]).toEqual([1, 1])
    expect([...(await endOffsets(kafka, names.output)).values()].reduce((a, b) => a + b)).toBe(18)

    const replay = async (...args: string[]) => {
      const r = kasper(['dead-letters', 'replay', ECHO_JOB, ...args], env)
      return { code: await r.exit, output: r.output() }
    }
    const dry = await replay('--dry-run', '--json')
    expect(dry.code).toBe(0)
    const plan = JSON.parse(dry.output) as ReplayJson
    expect(plan).toMatchObject({ deadLetterTopic: dlq, dryRun: true, replayed: 2, byTopic: { [names.input]: 2 } })
    expect([...(await endOffsets(kafka, names.input)).values()]).toEqual([10, 10])

    const done = await replay()
    expect(done.code).toBe(0)
    expect(done.output).toContain('replayed 2 dead letters')
    expect([...(await endOffsets(kafka, names.input)).values()]).toEqual([11, 11])
    const back = (await readTopic(kafka, names.input, 22)).filter((m) => m.headers['kasper.dlq.source.offset'])
    expect(back.map((m) => [m.partition, m.value, m.headers['kasper.dlq.source.partition']]).sort()).toEqual([
      [0, 'poison-p0', '0'],
      [1, 'poison-p1', '1'],
    ])
    expect(back.every((m) => m.headers['kasper.dlq.source.offset'] === '4')).toBe(true)

    // committed: a second replay has nothing to do
    const again = await replay('--json')
    expect((JSON.parse(again.output) as ReplayJson).replayed).toBe(0)

    // the job, fixed, processes the replayed messages: every input has its output
    await daemon({ KASPER_TEST_POISON_FIXED: '1' }, 22)
    const out = await readTopic(kafka, names.output, 20)
    expect(new Set(out.map((m) => m.value))).toEqual(new Set(inputs.map((m) => m.value)))

    // bad input: a --to topic that does not exist, named, exit 2, nothing replayed
    const bad = await replay('--to', `${names.name}-nowhere`)
    expect(bad.code).toBe(2)
    expect(bad.output).toMatch(/replay target topic ".*-nowhere" does not exist/)
  }, 120_000)
})
