import { describe, expect, it } from 'vitest'
import { type CliRun, kasper } from '../helpers/cli.js'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import {
  committedOffsets,
  createKafka,
  createTopics,
  produce,
  readCommittedByKafka,
  readTopic,
  waitFor,
} from '../helpers/kafka.js'

const PARTITIONS = 4

/** The partitions of each 'assignment received' line a daemon logged, in order. */
function assignments(run: CliRun): number[][] {
  return run
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"assignment received'))
    .map((line) => (JSON.parse(line) as { partitions: number[] }).partitions)
}

const lastAssignment = (run: CliRun) => assignments(run).at(-1)

async function setUp() {
  const kafka = createKafka()
  const names = jobNames()
  await createTopics(kafka, [names.input, names.output], PARTITIONS)
  let produced = 0
  /** Produces `count` keyed messages over every partition; returns their values. */
  const wave = async (count: number) => {
    const messages = Array.from({ length: count }, (_, i) => ({
      key: `k${produced + i}`,
      value: `v${produced + i}`,
      partition: (produced + i) % PARTITIONS,
    }))
    produced += count
    await produce(kafka, names.input, messages)
    return messages.map((m) => m.value)
  }
  const env = { ...echoJobEnv({ ...names, partitions: PARTITIONS }), KASPER_METRICS_PORT: '0' }
  const group = `kasper-topic-processor-${names.name}`
  const allCommitted = async () => {
    const c = await committedOffsets(kafka, group, names.input)
    const total = [...c.values()].reduce((sum, o) => sum + Number(o), 0)
    return total === produced || undefined
  }
  return { kafka, names, wave, env, allCommitted }
}

/**
 * Two slow group daemons; b is paused (SIGSTOP) past its 6 s session, a gets every partition, b is
 * resumed, learns its generation is over, and rejoins with a share. Returns the output (read
 * committed) and the inputs sent.
 */
async function pausedMember(extraEnv: Record<string, string>) {
  const { kafka, names, wave, env, allCommitted } = await setUp()
  const slowEnv = {
    ...env,
    KASPER_TEST_MODE: 'slow',
    KASPER_TEST_SLOW_MS: '300',
    KASPER_TEST_BATCH_SIZE: '10',
    ...extraEnv,
  }
  const flags = ['--assignment', 'group', '--session-timeout-ms', '6000']
  const a = kasper(['run', ECHO_JOB, ...flags], slowEnv)
  const b = kasper(['run', ECHO_JOB, ...flags], slowEnv)
  await waitFor(() => (lastAssignment(a)?.length === 2 && lastAssignment(b)?.length === 2 ? true : undefined), 60_000)
  const sent = await wave(400)
  await waitFor(
    async () =>
      (await committedOffsets(kafka, `kasper-topic-processor-${names.name}`, names.input)).size > 2 ? true : undefined,
    30_000,
  )

  // b stops answering: the coordinator ends its membership and gives a everything
  b.child.kill('SIGSTOP')
  await waitFor(() => (lastAssignment(a)?.length === PARTITIONS ? true : undefined), 30_000)
  b.child.kill('SIGCONT')
  // b learns its generation is over (heartbeat refused, its commit refused, or no heartbeat answered
  // within the session) and rejoins
  await waitFor(
    () =>
      /"reason":"(fenced|revoked|unreachable)"/.test(b.output()) && lastAssignment(b)?.length === 2 ? true : undefined,
    60_000,
  )
  await waitFor(allCommitted, 90_000)
  for (const run of [a, b]) run.child.kill('SIGTERM')
  expect(await a.exit).toBe(0)
  expect(await b.exit).toBe(0)
  expect(b.output()).not.toMatch(/halting/)
  // transactional output: Kafka's own read_committed reader; otherwise kafkajs's
  const transactional = extraEnv.KASPER_TEST_GUARANTEE === 'exactly-once'
  const out = transactional
    ? await readCommittedByKafka(kafka, names.output)
    : await readTopic(kafka, names.output, sent.length)
  return { out, sent }
}

describe('group assignment (--assignment group) on the real broker', () => {
  it('daemons share the partitions by the group’s assignment; when one stops the other takes its share; every input has one output', async () => {
    const { kafka, names, wave, env, allCommitted } = await setUp()
    // a static daemon processes the first wave and stops cleanly: group mode goes on from its commits
    const sent = await wave(200)
    const staticRun = kasper(['run', ECHO_JOB, '--workers', '2'], env)
    await waitFor(allCommitted, 30_000)
    staticRun.child.kill('SIGTERM')
    expect(await staticRun.exit).toBe(0)
    sent.push(...(await wave(200)))
    const a = kasper(['run', ECHO_JOB, '--assignment', 'group', '--workers', '2'], env)
    await waitFor(() => (lastAssignment(a)?.length === PARTITIONS ? true : undefined), 30_000)
    await waitFor(allCommitted, 30_000)

    const b = kasper(['run', ECHO_JOB, '--assignment', 'group', '--workers', '2'], env)
    // the group rebalances: each daemon gets two whole partition numbers, together all four
    await waitFor(() => (lastAssignment(a)?.length === 2 && lastAssignment(b)?.length === 2 ? true : undefined), 60_000)
    expect([...(lastAssignment(a) ?? []), ...(lastAssignment(b) ?? [])].sort()).toEqual([0, 1, 2, 3])
    // kasper describe shows the members and each one's share, as the coordinator holds them
    const described = kasper(['describe', ECHO_JOB, '--json'], env)
    expect(await described.exit).toBe(0)
    const { members } = JSON.parse(described.output()) as {
      members: { state: string; protocol: string; members: { partitions: number[] }[] }
    }
    expect(members).toMatchObject({ state: 'Stable', protocol: 'kasper-cooperative' })
    expect(members.members.map((m) => m.partitions.length)).toEqual([2, 2])
    expect(members.members.flatMap((m) => m.partitions).sort()).toEqual([0, 1, 2, 3])
    sent.push(...(await wave(200)))
    await waitFor(allCommitted, 30_000)

    b.child.kill('SIGTERM')
    expect(await b.exit).toBe(0)
    // b left the group: a gets b's share back at once
    await waitFor(() => (lastAssignment(a)?.length === PARTITIONS ? true : undefined), 30_000)
    sent.push(...(await wave(200)))
    await waitFor(allCommitted, 30_000)
    a.child.kill('SIGTERM')
    expect(await a.exit).toBe(0)

    // every rebalance (and the move from static mode) finished its batches and committed before the
    // partitions moved: no replays
    const out = await readTopic(kafka, names.output, sent.length)
    expect(out.map((m) => m.value).sort()).toEqual(sent.sort())
    // cooperative: a released b's share (after committing it) and rejoined at once; its other slice
    // ran on through every rebalance on one worker, never stopped or started again
    expect(a.output()).toMatch(/"reason":"released".*"msg":"assignment ended: partitions released, rejoining/)
    expect(a.output()).toMatch(/"reason":"rebalance".*"msg":"assignment ended: the group rebalances, rejoining while/)
    const starts = (run: CliRun, slice: number) =>
      run
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"slice started"') && line.includes(`"slice":${slice},`)).length
    expect(starts(a, 0)).toBe(1)
  }, 180_000)

  it('a member that lost its membership (paused past the session timeout) cannot commit: it rejoins, nothing is lost', async () => {
    const { out, sent } = await pausedMember({})
    // at least once: every input has an output; a replay after the refused commit may repeat some
    expect(new Set(out.map((m) => m.value))).toEqual(new Set(sent))
  }, 240_000)

  it('exactly-once under group assignment: the paused member is fenced by its replacement, rejoins, and every input has exactly one committed output', async () => {
    const { out, sent } = await pausedMember({ KASPER_TEST_GUARANTEE: 'exactly-once' })
    expect(out.map((m) => m.value).sort()).toEqual([...sent].sort())
  }, 240_000)

  it('a process() longer than the session timeout costs no membership: heartbeats do not wait for batches', async () => {
    const { wave, env, allCommitted } = await setUp()
    // every batch takes 8 s, the session times out after 6 s without heartbeats
    const slowEnv = { ...env, KASPER_TEST_MODE: 'slow', KASPER_TEST_SLOW_MS: '8000', KASPER_TEST_BATCH_SIZE: '1000' }
    const flags = ['--assignment', 'group', '--session-timeout-ms', '6000']
    const a = kasper(['run', ECHO_JOB, ...flags], slowEnv)
    const b = kasper(['run', ECHO_JOB, ...flags], slowEnv)
    await waitFor(() => (lastAssignment(a)?.length === 2 && lastAssignment(b)?.length === 2 ? true : undefined), 60_000)
    const ended = () => (a.output() + b.output()).match(/assignment ended/g)?.length ?? 0
    const before = [assignments(a).length, assignments(b).length, ended()]
    await wave(40)
    await waitFor(allCommitted, 60_000)
    for (const run of [a, b]) run.child.kill('SIGTERM')
    expect(await a.exit).toBe(0)
    expect(await b.exit).toBe(0)
    // no generation ended while the slow batches ran: the same assignments, no rejoin
    expect([assignments(a).length, assignments(b).length, ended()]).toEqual(before)
  }, 120_000)

  it('two daemons with one --group-instance-id: the one fenced stops with exit 2 naming the id, the other runs on', async () => {
    const { wave, env, allCommitted } = await setUp()
    const flags = ['--assignment', 'group', '--group-instance-id', 'same-pod', '--session-timeout-ms', '6000']
    const a = kasper(['run', ECHO_JOB, ...flags], env)
    await waitFor(() => (lastAssignment(a)?.length === PARTITIONS ? true : undefined), 30_000)
    const b = kasper(['run', ECHO_JOB, ...flags], env)
    expect(await a.exit).toBe(2)
    expect(a.output()).toMatch(/"code":"KASPER_GROUP_JOIN_FAILED"/)
    expect(a.output()).toMatch(/uses group instance id \\"same-pod\\": give each daemon its own --group-instance-id/)
    await waitFor(() => (lastAssignment(b)?.length === PARTITIONS ? true : undefined), 30_000)
    await wave(40)
    await waitFor(allCommitted, 30_000)
    b.child.kill('SIGTERM')
    expect(await b.exit).toBe(0)
  }, 120_000)

  it('a static daemon on a job whose group has live members is refused (exit 2, KASPER_ASSIGNMENT_CONFLICT)', async () => {
    const { wave, env } = await setUp()
    const a = kasper(['run', ECHO_JOB, '--assignment', 'group'], env)
    await waitFor(() => (lastAssignment(a)?.length === PARTITIONS ? true : undefined), 30_000)
    const c = kasper(['run', ECHO_JOB], env)
    await waitFor(() => (c.output().includes('slice started') ? true : undefined), 30_000)
    await wave(40)
    expect(await c.exit).toBe(2)
    expect(c.output()).toMatch(/KASPER_ASSIGNMENT_CONFLICT.*static and group assignment cannot run at the same time/)
    a.child.kill('SIGTERM')
    expect(await a.exit).toBe(0)
  }, 120_000)
})
