import { describe, expect, it } from 'vitest'
import { BatchSender } from '../../src/sender/sender.js'
import type { OutgoingMessage } from '../../src/types.js'

describe('BatchSender', () => {
  it('send queues without I/O; flush produces what is queued, in order', async () => {
    const produced: OutgoingMessage[][] = []
    const sender = new BatchSender(async (m) => {
      produced.push([...m])
    })
    sender.send({ topic: 'o', value: '1' })
    sender.send({ topic: 'o', value: '2', partition: 3 })
    expect(produced).toHaveLength(0)
    expect(sender.pending).toBe(2)
    await sender.flush()
    expect(produced).toEqual([
      [
        { topic: 'o', value: '1' },
        { topic: 'o', value: '2', partition: 3 },
      ],
    ])
    expect(sender.pending).toBe(0)
    expect(sender.produced).toBe(2)
    await sender.flush()
    expect(produced).toHaveLength(1)
  })

  it('a failed flush keeps the messages queued, so nothing is dropped', async () => {
    let fail = true
    const produced: string[] = []
    const sender = new BatchSender(async (m) => {
      if (fail) throw new Error('broker down')
      produced.push(...m.map((x) => String(x.value)))
    })
    sender.send({ topic: 'o', value: 'a' })
    await expect(sender.flush()).rejects.toThrow('broker down')
    expect(sender.pending).toBe(1)
    fail = false
    sender.send({ topic: 'o', value: 'b' })
    await sender.flush()
    expect(produced).toEqual(['a', 'b'])
  })

  it('messages sent while a flush is in flight stay queued for the next flush', async () => {
    let release: () => void = () => {}
    const produced: string[][] = []
    const sender = new BatchSender(async (m) => {
      produced.push(m.map((x) => String(x.value)))
      if (produced.length === 1) await new Promise<void>((r) => (release = r))
    })
    sender.send({ topic: 'o', value: '1' })
    const first = sender.flush()
    sender.send({ topic: 'o', value: '2' })
    release()
    await first
    expect(sender.pending).toBe(1)
    await sender.flush()
    expect(produced).toEqual([['1'], ['2']])
  })

  it('rejects a message without a topic or with a bad partition at send()', () => {
    const sender = new BatchSender(async () => {})

    expect(() => sender.send({ topic: 'o', value: 'x', partition: -1 })).toThrow(
      /partition must be a non-negative integer/,
    )
  })
})

describe('BatchSender input checks', () => {
  const codeOf = (f: () => void) => {
    try {
      f()
    } catch (e) {
      return (e as { code?: string }).code
    }
  }

  it('rejects a key or value that is not a string, Buffer or null, and bad headers, as OUTPUT_INVALID', () => {
    const sender = new BatchSender(async () => {})
    const bad = [
      { topic: 'o', value: 42 },
      { topic: 'o', value: { a: 1 } },
      { topic: 'o', value: undefined },
      { topic: 'o', key: 7, value: 'x' },
      { topic: 'o', value: 'x', headers: { h: 1 } },
      { topic: 'o', value: 'x', headers: 'h' },
      { topic: 'o', value: 'x', timestamp: 1700000000000 },
      { topic: 'o', value: 'x', timestamp: '2026-11-29T10:00:00Z' },
      { topic: 'o', value: 'x', timestamp: '-5' },
      { topic: 'o', value: 'x', timestamp: '' },
    ] as unknown as OutgoingMessage[]
    for (const message of bad) expect(codeOf(() => sender.send(message))).toBe('KASPER_OUTPUT_INVALID')
    expect(() => sender.send({ topic: 'o', key: 7, value: 'x' } as unknown as OutgoingMessage)).toThrow(
      /message.key must be a string, a Buffer or null, got a number/,
    )
    expect(() => sender.send({ topic: 'o', value: 'x', timestamp: 'yesterday' })).toThrow(
      /message.timestamp must be milliseconds since the epoch as a string of digits, got a string/,
    )
    expect(sender.pending).toBe(0)
    sender.send({ topic: 'o', key: null, value: null, timestamp: '1700000000000' })
    sender.send({
      topic: 'o',
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: { h: 'x', b: Buffer.from('y') },
    })
    expect(sender.pending).toBe(2)
  })

  it('asks the check hook about every message (the processor checks known partition counts)', () => {
    const sender = new BatchSender(async () => {}, {
      check: (m) => {
        if (m.partition === 9) throw new Error('no partition 9')
      },
    })
    expect(() => sender.send({ topic: 'o', value: 'x', partition: 9 })).toThrow('no partition 9')
    expect(sender.pending).toBe(0)
  })

  it('a send() after the seal throws SEND_AFTER_BATCH and tells the processor; flush still produces what was queued', async () => {
    const late: unknown[] = []
    const produced: string[] = []
    const sender = new BatchSender(
      async (m) => {
        produced.push(...m.map((x) => String(x.value)))
      },
      { onLateSend: (e) => late.push(e) },
    )
    sender.send({ topic: 'o', value: 'in time' })
    sender.seal()
    expect(codeOf(() => sender.send({ topic: 'o', value: 'late' }))).toBe('KASPER_SEND_AFTER_BATCH')
    expect(late).toHaveLength(1)
    await sender.flush()
    expect(produced).toEqual(['in time'])
  })
})
