import { describe, expect, it } from 'vitest'
import { RecordRun } from '../../src/kafka/record-run.js'

/** Records in Kafka's wire format from the key on: key, value, no headers (lengths are zig-zag varints). */
function records(pairs: [string, string][]): { buf: Buffer; at: number[] } {
  const parts: Buffer[] = []
  const at: number[] = []
  let o = 0
  for (const [k, v] of pairs) {
    const part = Buffer.concat([
      Buffer.from([k.length * 2]),
      Buffer.from(k),
      Buffer.from([v.length * 2]),
      Buffer.from(v),
      Buffer.from([0]),
    ])
    at.push(o)
    o += part.length
    parts.push(part)
  }
  return { buf: Buffer.concat(parts), at }
}

describe('RecordRun', () => {
  it('keeps more records than it reserved room for, with offsets and timestamps past 2^32 exact', () => {
    const { buf, at } = records([
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'z'],
    ])
    const run = new RecordRun('t', 4)
    run.reserve(1)
    const b = run.addBuffer(buf)
    for (const [i, position] of at.entries()) run.add(b, position, 2 ** 40 + i, 1_700_000_000_123 + i)
    expect(run.length).toBe(3)
    expect(run.slice().map((m) => [m.offset, m.timestamp, m.key?.toString(), m.value?.toString()])).toEqual([
      ['1099511627776', '1700000000123', 'a', 'x'],
      ['1099511627777', '1700000000124', 'b', 'y'],
      ['1099511627778', '1700000000125', 'c', 'z'],
    ])
    expect(run.slice(1, 2).map((m) => [m.topic, m.partition, m.offset])).toEqual([['t', 4, '1099511627777']])
  })

  it('an empty run slices to nothing', () => {
    const run = new RecordRun('t', 0)
    expect(run.length).toBe(0)
    expect(run.slice()).toEqual([])
  })
})
