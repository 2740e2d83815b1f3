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
    expect(() => sender.send({ topic: '', value: 'x' })).toThrow(/topic must be a non-empty string/)
    expect(() => sender.send({ topic: 'o', value: 'x', partition: -1 })).toThrow(
      /partition must be a non-negative integer/,
    )
  })
})
