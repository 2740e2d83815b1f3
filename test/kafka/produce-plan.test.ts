import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError, OutputError } from '../../src/errors.js'
import { planRounds, RECORD_BATCH_OVERHEAD, recordSize, runLimit } from '../../src/kafka/produce-plan.js'
import type { OutgoingMessage } from '../../src/types.js'

const info =
  (partitions: number, maxMessageBytes = 1_048_588) =>
  () => ({ partitions, maxMessageBytes })
const byKey = (_topic: string, partitions: number, m: OutgoingMessage) => Number(m.key) % partitions
const value100 = 'v'.repeat(100)

describe('planRounds', () => {
  it('cuts 10,000 × 100 B to one partition into record batches under max.message.bytes, in order', () => {
    const messages = Array.from({ length: 10_000 }, (_, i) => ({ topic: 'o', partition: 2, value: `${i}`.padEnd(100) }))
    const rounds = planRounds(messages, info(4), byKey, 16 << 20)
    expect(rounds.length).toBeGreaterThan(1)
    for (const round of rounds) {
      expect(round).toHaveLength(1)
      expect(round[0]?.bytes).toBeLessThanOrEqual(runLimit({ partitions: 4, maxMessageBytes: 1_048_588 }))
    }
    const out = rounds.flatMap((r) => r.flatMap((run) => run.messages.map((m) => String(m.value).trim())))
    expect(out).toEqual(messages.map((_, i) => `${i}`))
  })

  it('sends one run per partition per round, later runs of a partition in later rounds', () => {
    const messages = Array.from({ length: 3000 }, (_, i) => ({ topic: 'o', key: String(i), value: value100.repeat(3) }))
    const rounds = planRounds(messages, info(3), byKey, 16 << 20)
    for (const round of rounds) {
      const partitions = round.map((r) => r.partition)
      expect(new Set(partitions).size).toBe(partitions.length)
    }
    for (const p of [0, 1, 2]) {
      const seen = rounds.flatMap((r) => r.filter((run) => run.partition === p).flatMap((run) => run.messages))
      expect(seen.map((m) => m.key)).toEqual(messages.filter((m) => Number(m.key) % 3 === p).map((m) => m.key))
      // the run carries the partition; messages are the caller's own objects, not copies
      const own = new Set(messages)
      expect(seen.every((m) => own.has(m as (typeof messages)[number]))).toBe(true)
    }
  })

  it('bounds a round by the request size, putting at least one run in each', () => {
    const messages = Array.from({ length: 40 }, (_, i) => ({
      topic: 'o',
      partition: i % 4,
      value: 'x'.repeat(300_000),
    }))
    const rounds = planRounds(messages, info(4), byKey, 1_000_000)
    for (const round of rounds) {
      const bytes = round.reduce((sum, r) => sum + r.bytes, 0)
      expect(round.length === 1 || bytes <= 1_000_000).toBe(true)
    }
    expect(rounds.flat().flatMap((r) => r.messages)).toHaveLength(40)
  })

  it('honours a topic with a smaller max.message.bytes', () => {
    const messages = Array.from({ length: 100 }, () => ({ topic: 'small', partition: 0, value: value100 }))
    const rounds = planRounds(messages, info(1, 4096), byKey, 16 << 20)
    expect(rounds.length).toBeGreaterThanOrEqual(4)
    for (const round of rounds) expect(round[0]?.bytes).toBeLessThanOrEqual(4096 - RECORD_BATCH_OVERHEAD)
  })

  it('a partition the topic does not have is OUTPUT_PARTITION_NOT_FOUND naming topic, partition and count', () => {
    const error = (() => {
      try {
        planRounds([{ topic: 'o', partition: 77, value: 'x' }], info(4), byKey, 16 << 20)
      } catch (e) {
        return e
      }
    })()
    expect(KasperError.is(error, ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)).toBe(true)
    expect(error).toMatchObject({ topic: 'o', partition: 77, retriable: false })
    expect((error as Error).message).toMatch(
      /output partition 77 of topic "o" does not exist: the topic has 4 partitions/,
    )
  })

  it('one message over the limit is MESSAGE_TOO_LARGE naming topic, partition and size', () => {
    const big = { topic: 'o', partition: 1, value: Buffer.alloc(2_000_000) }
    expect(() => planRounds([big], info(4), byKey, 16 << 20)).toThrow(OutputError)
    expect(() => planRounds([big], info(4), byKey, 16 << 20)).toThrow(
      new RegExp(`o\\[1\\] is ${recordSize(big)} bytes.*max.message.bytes`),
    )
  })

  it('estimates a record by key, value and headers', () => {
    const plain = recordSize({ topic: 'o', value: 'abc' })
    expect(recordSize({ topic: 'o', key: 'k', value: 'abc', headers: { h: 'v' } })).toBeGreaterThan(plain + 3)
    expect(recordSize({ topic: 'o', value: null })).toBeLessThan(plain)
  })
})
