import { describe, expect, it } from 'vitest'
import { ErrorCodes, OffsetOutOfRangeError, silentLogger, textLogger } from '../../src/index.js'
import { tpKey } from '../../src/kafka/topic-partitions.js'
import { resolveStartOffsets } from '../../src/processor/start-offsets.js'

const tp = [{ topic: 't', partition: 0 }]
const bounds = new Map([[tpKey('t', 0), { start: '100', end: '200' }]])
const none = { initialOffset: 'earliest', offsetReset: 'none' } as const

describe('resolveStartOffsets', () => {
  it('starts from the committed offset when it lies in the log (both ends included)', () => {
    for (const offset of ['100', '150', '200']) {
      expect(resolveStartOffsets(tp, new Map([[tpKey('t', 0), offset]]), bounds, none, silentLogger)[0]).toMatchObject({
        offset,
        source: 'committed',
      })
    }
  })

  it('without a commit, starts at initialOffset', () => {
    expect(resolveStartOffsets(tp, new Map(), bounds, none, silentLogger)[0]?.offset).toBe('100')
    expect(
      resolveStartOffsets(tp, new Map(), bounds, { ...none, initialOffset: 'latest' }, silentLogger)[0]?.offset,
    ).toBe('200')
  })

  it('a committed offset outside the log is an error unless offsetReset says where to go (and warns)', () => {
    for (const offset of ['99', '201']) {
      const committed = new Map([[tpKey('t', 0), offset]])
      expect(() => resolveStartOffsets(tp, committed, bounds, none, silentLogger)).toThrow(OffsetOutOfRangeError)
      try {
        resolveStartOffsets(tp, committed, bounds, none, silentLogger)
      } catch (error) {
        expect((error as OffsetOutOfRangeError).code).toBe(ErrorCodes.OFFSET_OUT_OF_RANGE)
        expect((error as Error).message).toContain(`offset ${offset} of t[0] is outside the log [100, 200]`)
      }
      const lines: string[] = []
      const logger = textLogger({ write: (l) => lines.push(l) })
      const reset = resolveStartOffsets(tp, committed, bounds, { ...none, offsetReset: 'latest' }, logger)
      expect(reset[0]).toMatchObject({ offset: '200', source: 'reset' })
      expect(lines.join('')).toMatch(/WARN .*resetting to latest/)
    }
  })
})
