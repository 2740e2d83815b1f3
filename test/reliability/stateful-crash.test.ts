/**
 * The documented stateful pattern (read state, update in memory, send, `await sender.flush()`,
 * `putAll`, return) survives a kill -9 at every point of a batch: after the output is acked and
 * before the state write, after the state write and before the commit, and while a commit is in
 * flight. The daemon kills itself at the chosen point (a hook in the test job), then a clean run
 * finishes; the final state and the outputs are checked exactly. The pattern the docs used to show
 * (state written first, output produced after return) is run too: it loses output at the same
 * crash, which shows the test can see a loss.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { WordState } from '../../examples/word-count/word-count-processor.js'
import { jsonCodec, RedisStore } from '../../src/index.js'
import {
  brokers,
  committedOffsets,
  createKafka,
  createTopics,
  produce,
  readTopic,
  redisUrl,
  uniqueName,
} from '../helpers/kafka.js'
import { useRedis } from '../helpers/redis.js'

const CLI = resolve('dist/supervisor/cli/main.js')
const JOB = resolve('dist/test/fixtures/jobs/crash-word-count-job.js')
const client = useRedis()
const vocabulary = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen']
const words = Array.from({ length: 160 }, (_, i) => vocabulary[(i * 7 + (i >> 3)) % vocabulary.length] as string)

function runDaemon(env: Record<string, string>, until?: () => Promise<boolean>) {
  const child = spawn(process.execPath, [CLI, 'run', JOB, '--workers', '1', '--metrics-port', '0'], {
    env: { ...process.env, REDIS_URL: redisUrl(), ...env },
    stdio: 'ignore',
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  )
  if (until) {
    void (async () => {
      while (child.exitCode === null && child.signalCode === null) {
        if (await until().catch(() => false)) {
          child.kill('SIGTERM')
          return
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    })()
  }
  return exit
}

async function crashAndRecover(crashAt: string, order: 'flush-first' | 'put-first') {
  const kafka = createKafka()
  const name = uniqueName(`crash-${crashAt}`)
  const [input, output] = [`${name}-words`, `${name}-counts`]
  await createTopics(kafka, [input, output], 2)
  await produce(
    kafka,
    input,
    words.map((w) => ({ key: w, value: w })),
  )
  const env = {
    KASPER_TEST_BROKERS: brokers().join(','),
    KASPER_TEST_NAME: name,
    KASPER_TEST_INPUT: input,
    KASPER_TEST_OUTPUT: output,
    KASPER_TEST_PARTITIONS: '2',
    KASPER_CRASH_AT: crashAt,
    KASPER_CRASH_BATCH: '3',
    KASPER_CRASH_ORDER: order,
    KASPER_TEST_MARKER_DIR: mkdtempSync(join(tmpdir(), 'kasper-crash-')),
  }
  const crashed = await runDaemon(env)
  const group = `kasper-topic-processor-${name}`
  const committed = async () =>
    [...(await committedOffsets(kafka, group, input)).values()].reduce((s, o) => s + Math.max(0, Number(o)), 0)
  const committedAtCrash = await committed()
  const clean = await runDaemon(env, async () => (await committed()) === words.length)
  const outputs = (await readTopic(kafka, output, words.length, 15_000)).map((m) => String(m.value))
  const store = new RedisStore<WordState>({ redis: client(), prefix: `${name}/count`, codec: jsonCodec<WordState>() })
  const state = await store.getAll(new Set(vocabulary))

  const missing: string[] = []
  const unexpected = new Set(outputs)
  let wrongState = 0
  for (const w of vocabulary) {
    const total = words.filter((x) => x === w).length
    if (state.get(w)?.count !== total) wrongState++
    for (let n = 1; n <= total; n++) {
      const v = `${w} has been seen ${n} times`
      if (!unexpected.delete(v) && !outputs.includes(v)) missing.push(v)
    }
  }
  return { crashed, clean, committedAtCrash, outputs, missing, unexpected: [...unexpected], wrongState }
}

describe('the stateful pattern under kill -9 (examples/word-count under kasper run)', () => {
  for (const crashAt of ['after-flush', 'after-put', 'in-commit']) {
    it(`a kill -9 ${crashAt}: exact final counts, every count emitted, none invented`, async () => {
      const r = await crashAndRecover(crashAt, 'flush-first')
      expect(r.crashed.signal).toBe('SIGKILL')
      expect(r.committedAtCrash).toBeLessThan(words.length)
      expect(r.clean.code).toBe(0)
      expect(r.missing).toEqual([])
      expect(r.unexpected).toEqual([])
      expect(r.wrongState).toBe(0)
      expect(r.outputs.length).toBeGreaterThanOrEqual(words.length)
    }, 120_000)
  }

  it('the old pattern (putAll, then output produced after return) loses output at the same crash', async () => {
    const r = await crashAndRecover('after-put', 'put-first')
    expect(r.crashed.signal).toBe('SIGKILL')
    expect(r.wrongState).toBe(0)
    expect(r.missing.length).toBeGreaterThan(0)
  }, 120_000)
})
