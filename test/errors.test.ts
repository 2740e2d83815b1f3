import { describe, expect, it } from 'vitest'
import {
  BatchError,
  ConfigError,
  ErrorCodes,
  FetchError,
  KasperError,
  OffsetOutOfRangeError,
  ProcessorMissingError,
  StoreError,
  serializeError,
} from '../src/index.js'

describe('errors', () => {
  it('every class carries its stable code', () => {
    expect(new ConfigError('X', []).code).toBe(ConfigError.code)
    expect(new ProcessorMissingError(3).code).toBe(ProcessorMissingError.code)
    expect(new OffsetOutOfRangeError('t', 0, '1', '2', '3').code).toBe(OffsetOutOfRangeError.code)
    expect(new FetchError('x').code).toBe(FetchError.code)
    expect(new StoreError('getAll', 'x').code).toBe(StoreError.code)
    expect(new Set(Object.values(ErrorCodes)).size).toBe(Object.values(ErrorCodes).length)
    for (const code of Object.values(ErrorCodes)) expect(code).toMatch(/^KASPER_[A-Z_]+$/)
  })

  it('BatchError names the partition, the offsets and the cause', () => {
    const cause = new Error('boom')
    const e = new BatchError(
      ErrorCodes.PROCESS_FAILED,
      'process() failed',
      { partition: 2, offsets: { t: { first: '5', last: '9' } } },
      cause,
    )
    expect(e.message).toBe('process() failed for partition 2 (t[2]@5..9): boom')
    expect(e.cause).toBe(cause)
    expect(e.name).toBe('BatchError')
    expect(KasperError.is(e, ErrorCodes.PROCESS_FAILED)).toBe(true)
    expect(KasperError.is(new Error('x'), ErrorCodes.PROCESS_FAILED)).toBe(false)
  })

  it('serializeError keeps name, code, message and the cause chain', () => {
    const e = new BatchError(
      ErrorCodes.PRODUCE_FAILED,
      'produce',
      { partition: 0, offsets: {} },
      new StoreError('putAll', 'down'),
    )
    const s = serializeError(e)
    expect(s).toMatchObject({
      name: 'BatchError',
      code: 'KASPER_PRODUCE_FAILED',
      cause: { name: 'StoreError', code: 'KASPER_STORE_FAILED' },
    })
    expect(serializeError('plain')).toEqual({ name: 'Error', message: 'plain' })
  })
})
