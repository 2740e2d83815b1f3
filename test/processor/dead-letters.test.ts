/** The dead-letter policy's own logic (retries, bisection, breaker), with a fake process(): no broker. */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError, OutputError } from '../../src/errors.js'
import { silentLogger } from '../../src/logging/logger.js'
import { NoopMetrics } from '../../src/metrics/provider.js'
import {
  type Attempt,
  DeadLetterHeaders,
  DeadLetterPolicy,
  type DeadLetterSettings,
} from '../../src/processor/dead-letters.js'
import { ProcessorMetrics } from '../../src/processor/processor-metrics.js'
import type { IncomingMessage } from '../../src/types.js'

const settings = (over: Partial<DeadLetterSettings> = {}): DeadLetterSettings => ({
  topic: 'job.dlq',
  retries: 2,
  retryBackoffMs: 1,
  maxDeadLetters: 100,
  maxDeadLetterRatio: 0.5,
  windowMs: 60_000,
  ...over,
})

const messages = (n: number, topic = 'in'): IncomingMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    topic,
    partition: 3,
    offset: String(100 + i),
    timestamp: '1700000000000',
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`v${i}`),
    headers: { trace: `t${i}` },
  }))

/** process() that fails for any batch holding a poison value, and records every call. */
function poisoned(poison: ReadonlySet<string>) {
  const calls: string[][] = []
  const attempt: Attempt = async (batch) => {
    calls.push(batch.map((m) => String(m.value)))
    const bad = batch.find((m) => poison.has(String(m.value)))
    if (bad) throw new Error(`cannot handle ${String(bad.value)}`)
    return batch.map((m) => ({ topic: 'out', key: m.key, value: `out-${String(m.value)}` }))
  }
  return { attempt, calls }
}

const policy = (over?: Partial<DeadLetterSettings>) => {
  const metrics = new ProcessorMetrics(new NoopMetrics())
  return new DeadLetterPolicy(settings(over), 'job', metrics, silentLogger)
}

describe('DeadLetterPolicy', () => {
  it('a batch that succeeds is returned as is, with one call', async () => {
    const { attempt, calls } = poisoned(new Set())
    const out = await policy().run(3, messages(10), attempt)
    expect(out.map((m) => m.value)).toEqual(messages(10).map((m) => `out-${String(m.value)}`))
    expect(calls).toHaveLength(1)
  })

  it('a transient failure is retried and nothing is dead-lettered', async () => {
    let failures = 2
    const attempt: Attempt = async (batch) => {
      if (failures-- > 0) throw new Error('redis timeout')
      return batch.map((m) => ({ topic: 'out', value: String(m.value) }))
    }
    const out = await policy({ retries: 2 }).run(3, messages(4), attempt)
    expect(out.map((m) => m.value)).toEqual(['v0', 'v1', 'v2', 'v3'])
  })

  it('a closing processor skips the back-off and finishes the batch (a 10-minute back-off would hang this test)', async () => {
    const metrics = new ProcessorMetrics(new NoopMetrics())
    const closing = new DeadLetterPolicy(
      settings({ retries: 1, retryBackoffMs: 600_000 }),
      'job',
      metrics,
      silentLogger,
      () => true,
    )
    let failures = 1
    const attempt: Attempt = async (batch) => {
      if (failures-- > 0) throw new Error('once')
      return batch.map((m) => ({ topic: 'out', value: String(m.value) }))
    }
    expect((await closing.run(3, messages(2), attempt)).map((m) => m.value)).toEqual(['v0', 'v1'])
  })

  it('finds exactly the failing messages by bisection, keeps the others output in input order, then the dead letters', async () => {
    const { attempt, calls } = poisoned(new Set(['v3', 'v11']))
    const out = await policy({ retries: 1 }).run(3, messages(16), attempt)
    const outputs = out.filter((m) => m.topic === 'out').map((m) => m.value)
    expect(outputs).toEqual(
      messages(16)
        .map((m) => String(m.value))
        .filter((v) => v !== 'v3' && v !== 'v11')
        .map((v) => `out-${v}`),
    )
    const letters = out.filter((m) => m.topic === 'job.dlq')
    expect(letters.map((m) => String(m.value))).toEqual(['v3', 'v11'])
    expect(out.slice(-2)).toEqual(letters) // dead letters come last
    const [first] = letters
    expect(first?.key?.toString()).toBe('k3')
    expect(first?.headers).toMatchObject({
      trace: 't3',
      [DeadLetterHeaders.SOURCE_TOPIC]: 'in',
      [DeadLetterHeaders.SOURCE_PARTITION]: '3',
      [DeadLetterHeaders.SOURCE_OFFSET]: '103',
      [DeadLetterHeaders.SOURCE_TIMESTAMP]: '1700000000000',
      [DeadLetterHeaders.ERROR_CODE]: 'Error',
      [DeadLetterHeaders.ERROR_MESSAGE]: 'cannot handle v3',
      [DeadLetterHeaders.PROCESSOR]: 'job',
    })
    // 16 → 8 → 4 → 2 → 1: the whole batch twice (1 retry), then 4 levels of halves
    expect(first?.headers?.[DeadLetterHeaders.ATTEMPTS]).toBe('6')
    // the whole batch twice, then halves of what failed: 2 + 2 + 4 + 4 (pairs) + 4 (single messages)
    expect(calls).toHaveLength(16)
    expect(calls.filter((c) => c.length === 1).sort()).toEqual([['v10'], ['v11'], ['v2'], ['v3']].sort())
  })

  it('the job output mistakes (OutputError) are not dead letters: they fail the batch at once', async () => {
    let calls = 0
    const attempt: Attempt = async () => {
      calls++
      throw new OutputError(ErrorCodes.OUTPUT_PARTITION_NOT_FOUND, 'topic out has no partition 9', 'out', 9)
    }
    const error = await policy()
      .run(3, messages(4), attempt)
      .catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)).toBe(true)
    expect(calls).toBe(1)
  })

  it('the breaker trips when more than maxDeadLetters fall within the window, and the batch is not returned', async () => {
    const p = policy({ retries: 0, maxDeadLetters: 3 })
    const { attempt } = poisoned(new Set(['v0', 'v1']))
    expect((await p.run(3, messages(4), attempt)).filter((m) => m.topic === 'job.dlq')).toHaveLength(2)
    const error = await p.run(3, messages(4), attempt).catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.DEAD_LETTER_BREAKER)).toBe(true)
    expect((error as KasperError).retriable).toBe(false)
    expect((error as Error).message).toMatch(/4 of 8 messages failed within 60000 ms/)
  })

  it('the ratio rule trips once the window holds 100 messages, not before', async () => {
    const p = policy({ retries: 0, maxDeadLetterRatio: 0.2 })
    const half = new Set(messages(50).map((m, i) => (i % 2 === 0 ? String(m.value) : '')))
    const { attempt } = poisoned(half)
    // 25 of 50 (ratio 0.5) but only 50 messages in the window: no trip
    expect((await p.run(3, messages(50), attempt)).filter((m) => m.topic === 'job.dlq')).toHaveLength(25)
    const error = await p.run(3, messages(50), attempt).catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.DEAD_LETTER_BREAKER)).toBe(true)
  })

  it('dead letters older than the window no longer count', async () => {
    const p = policy({ retries: 0, maxDeadLetters: 1, windowMs: 50 })
    const { attempt } = poisoned(new Set(['v0']))
    await p.run(3, messages(2), attempt)
    await new Promise((r) => setTimeout(r, 80))
    expect((await p.run(3, messages(2), attempt)).filter((m) => m.topic === 'job.dlq')).toHaveLength(1)
  })
})
