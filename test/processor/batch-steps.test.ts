import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../src/index.js'
import { tpKey } from '../../src/kafka/topic-partitions.js'
import { assignmentLostTo, batchPosition, findOverlap, runProcess } from '../../src/processor/batch-steps.js'
import type { IncomingMessage } from '../../src/types.js'

const key = tpKey('t', 0)
const ME = 'kasper-ts:me'

describe('findOverlap', () => {
  it('ignores our own commits and an old commit we started from', () => {
    expect(
      findOverlap(new Map([[key, '10']]), new Set([key]), new Map([[key, { offset: '10', metadata: ME }]]), ME),
    ).toBeUndefined()
    expect(
      findOverlap(new Map([[key, '5']]), new Set(), new Map([[key, { offset: '5', metadata: 'kasper-ts:dead' }]]), ME),
    ).toBeUndefined()
    expect(findOverlap(new Map([[key, '5']]), new Set(), new Map(), ME)).toBeUndefined()
  })

  it('a foreign commit after our first one, or one that moved the offset, is an overlap', () => {
    const afterOurs = findOverlap(
      new Map([[key, '10']]),
      new Set([key]),
      new Map([[key, { offset: '10', metadata: 'kasper-ts:other' }]]),
      ME,
    )
    expect(afterOurs).toMatchObject({
      code: ErrorCodes.PARTITION_OVERLAP,
      topic: 't',
      partition: 0,
      otherInstance: 'kasper-ts:other',
    })
    const moved = findOverlap(
      new Map([[key, '5']]),
      new Set(),
      new Map([[key, { offset: '8', metadata: 'kasper-ts:other' }]]),
      ME,
    )
    expect(moved).toMatchObject({ expectedOffset: '5', committedOffset: '8' })
  })

  it('under group assignment a foreign commit is a lost assignment (a revocation), not an overlap', () => {
    const overlap = findOverlap(
      new Map([[key, '10']]),
      new Set([key]),
      new Map([[key, { offset: '12', metadata: 'kasper-ts:other' }]]),
      ME,
    )
    const lost = assignmentLostTo(overlap as NonNullable<typeof overlap>)
    expect(lost).toMatchObject({ code: ErrorCodes.ASSIGNMENT_LOST, retriable: true })
    expect(lost.message).toContain('t[0] was committed by another member of the group (kasper-ts:other, offset 12)')
  })
})

describe('batchPosition and runProcess', () => {
  it('batchPosition gives first and last offset per topic', () => {
    const m = (topic: string, offset: string) => ({ topic, offset }) as IncomingMessage
    expect(batchPosition(3, [m('a', '1'), m('b', '7'), m('a', '2')])).toEqual({
      partition: 3,
      offsets: { a: { first: '1', last: '2' }, b: { first: '7', last: '7' } },
    })
  })

  it('runProcess passes the partition and a live signal, and times out by aborting it', async () => {
    let seen: { partition: number; aborted: boolean } | undefined
    const quick = {
      process: (_m: unknown, _s: unknown, ctx: { partition: number; signal: AbortSignal }) => {
        seen = { partition: ctx.partition, aborted: ctx.signal.aborted }
      },
    }
    await runProcess(quick, [], {} as never, 4, undefined)
    expect(seen).toEqual({ partition: 4, aborted: false })
    let signal: AbortSignal | undefined
    const slow = {
      process: (_m: unknown, _s: unknown, ctx: { signal: AbortSignal }) => {
        signal = ctx.signal
        return new Promise<void>((r) => setTimeout(r, 5000))
      },
    }
    await expect(runProcess(slow, [], {} as never, 0, 50)).rejects.toMatchObject({ code: ErrorCodes.PROCESS_TIMEOUT })
    expect(signal?.aborted).toBe(true)
  })
})
