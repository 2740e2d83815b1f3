import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CorruptRecordBatchError, decodeFetchResponse } from '../../src/kafka/fetch-response.js'
import { encodeRecordBatch } from '../../src/kafka/record-batch.js'
import type { OutgoingMessage } from '../../src/types.js'
import { encodeFetchResponse, patchBatch } from './fetch-wire.js'

const msgs = (n: number, from = 0): OutgoingMessage[] =>
  Array.from({ length: n }, (_, i) => ({ topic: 't', key: `k${from + i}`, value: `v${from + i}` }))

/** A batch of `messages` at `baseOffset`. */
const batch = (baseOffset: number, messages: OutgoingMessage[], fields: Parameters<typeof patchBatch>[1] = {}) =>
  patchBatch(encodeRecordBatch(messages, 1_700_000_000_000), { baseOffset, ...fields })

/** A control batch holding one marker: type 0 ABORT, 1 COMMIT. */
const marker = (offset: number, producerId: number, type: 0 | 1) => {
  const key = Buffer.alloc(4)
  key.writeInt16BE(type, 2)
  return batch(offset, [{ topic: 't', key, value: Buffer.alloc(6) }], { attributes: 0x30, producerId })
}

async function decode(
  records: Buffer,
  fetchOffset: number,
  extra: { aborted?: { producerId: number; firstOffset: number }[] } = {},
) {
  const body = encodeFetchResponse(
    {
      responses: [
        {
          topicName: 't',
          partitions: [
            { partition: 2, errorCode: 0, highWatermark: '1000', messages: [], abortedTransactions: extra.aborted },
          ],
        },
      ],
    },
    () => records,
  )
  const decoded = await decodeFetchResponse(body, new Map([['t\u00002', String(fetchOffset)]]), true)
  const p = decoded.responses[0]?.partitions[0]
  if (!p) throw new Error('no partition decoded')
  // every message made at once (they are made when taken: src/kafka/record-run.ts)
  return { ...p, messages: p.messages.slice() }
}

const values = (p: { messages: { value: Buffer | null }[] }) => p.messages.map((m) => m.value?.toString() ?? null)

describe('Fetch response decoding', () => {
  it('hands over a run whose messages are made when sliced: any part, any number of times, the same', async () => {
    const records = Buffer.concat([
      batch(10, [
        { topic: 't', key: 'a', value: 'x' },
        { topic: 't', key: 'b', value: 'y', headers: { h: 'one' } },
      ]),
      batch(12, [{ topic: 't', key: 'c', value: 'z', timestamp: '1700000000009' }]),
    ])
    const body = encodeFetchResponse(
      {
        responses: [
          { topicName: 't', partitions: [{ partition: 2, errorCode: 0, highWatermark: '13', messages: [] }] },
        ],
      },
      () => records,
    )
    const decoded = await decodeFetchResponse(body, new Map([['t\u00002', '11']]), true)
    const run = decoded.responses[0]?.partitions[0]?.messages
    expect(run?.length).toBe(2)
    const tail = run?.slice(1, 2)
    expect(tail?.map((m) => [m.offset, m.timestamp, m.key?.toString(), m.value?.toString()])).toEqual([
      ['12', '1700000000009', 'c', 'z'],
    ])
    const all = run?.slice() ?? []
    expect(all.map((m) => m.offset)).toEqual(['11', '12'])
    expect(all[0]?.headers).toEqual({ h: Buffer.from('one') })
    expect(run?.slice(0, 1)).toEqual(all.slice(0, 1))
  })

  it('a batch claiming more records than its bytes can hold decodes what is there (the claim sizes nothing)', async () => {
    const records = batch(0, msgs(3), { count: 2 ** 31 - 1 })
    const p = await decode(records, 0)
    expect(values(p)).toEqual(['v0', 'v1', 'v2'])
  })

  it('records with offsets, timestamps, keys, values and headers (a repeated header becomes a list)', async () => {
    const records = batch(40, [
      { topic: 't', key: 'a', value: 'x', timestamp: '1700000000005' },
      { topic: 't', key: null, value: null, headers: { h: 'one' } },
    ])
    const p = await decode(records, 40)
    expect(p.messages.map((m) => [m.topic, m.partition, m.offset, m.timestamp])).toEqual([
      ['t', 2, '40', '1700000000005'],
      ['t', 2, '41', '1700000000000'],
    ])
    expect(p.messages[0]?.key?.toString()).toBe('a')
    expect(p.messages[1]?.key).toBeNull()
    expect(values(p)).toEqual(['x', null])
    expect(p.messages[1]?.headers).toEqual({ h: Buffer.from('one') })
    expect(p).toMatchObject({ highWatermark: '1000', lastOffset: '41', nextOffset: '42', onlyBelowFetchOffset: false })

    // a header name written twice: both values, in order, as kafkajs gives them
    const twice = batch(0, [{ topic: 't', value: 'v', headers: { h: 'one', g: 'two' } }])
    twice[twice.indexOf(Buffer.from('g'), 61)] = 'h'.charCodeAt(0)
    const repeated = await decode(patchBatch(twice, {}), 0)
    expect(repeated.messages[0]?.headers).toEqual({ h: [Buffer.from('one'), Buffer.from('two')] })
  })

  it('log-append-time batches take the batch’s max timestamp', async () => {
    const p = await decode(batch(0, msgs(2), { attributes: 0x08 }), 0)
    expect(p.messages.map((m) => m.timestamp)).toEqual(['1700000000000', '1700000000000'])
  })

  it('skips records below the fetch offset, and the next fetch starts past the batch', async () => {
    const p = await decode(Buffer.concat([batch(10, msgs(5)), batch(15, msgs(3, 5))]), 13)
    expect(p.messages.map((m) => m.offset)).toEqual(['13', '14', '15', '16', '17'])
    expect(p.nextOffset).toBe('18')
  })

  it('a batch whose tail was compacted away: nothing at or past the fetch offset, the next fetch starts past the batch', async () => {
    // records 20..21 remain, the batch's last offset delta still says 24
    const p = await decode(batch(20, msgs(2), { lastOffsetDelta: 4 }), 23)
    expect(p.messages).toEqual([])
    expect(p.nextOffset).toBe('25')
  })

  it('a partial batch at the end (the broker cuts at maxBytes) is left for the next fetch', async () => {
    const whole = Buffer.concat([batch(0, msgs(3)), batch(3, msgs(3, 3))])
    const p = await decode(whole.subarray(0, whole.length - 7), 0)
    expect(p.messages.map((m) => m.offset)).toEqual(['0', '1', '2'])
    expect(p.nextOffset).toBe('3')
    expect((await decode(whole.subarray(0, 30), 0)).messages).toEqual([])
  })

  it('read_committed: an aborted transaction’s records and every control record are dropped, positions move past them', async () => {
    const records = Buffer.concat([
      batch(10, msgs(3, 10), { attributes: 0x10, producerId: 7 }), // aborted
      marker(13, 7, 0),
      batch(14, msgs(2, 14), { attributes: 0x10, producerId: 8 }), // committed
      marker(16, 8, 1),
      batch(17, msgs(1, 17), { attributes: 0x10, producerId: 7 }), // a later transaction of producer 7: committed
      marker(18, 7, 1),
    ])
    const p = await decode(records, 10, { aborted: [{ producerId: 7, firstOffset: 10 }] })
    expect(p.messages.map((m) => m.offset)).toEqual(['14', '15', '17'])
    expect(values(p)).toEqual(['v14', 'v15', 'v17'])
    expect(p).toMatchObject({ lastOffset: '18', nextOffset: '19' })
  })

  it('a gzip-compressed batch is decompressed', async () => {
    const plain = batch(5, msgs(4, 5))
    const compressed = Buffer.concat([plain.subarray(0, 61), gzipSync(plain.subarray(61))])
    compressed.writeInt32BE(compressed.length - 12, 8)
    const p = await decode(patchBatch(compressed, { attributes: 0x01 }), 5)
    expect(values(p)).toEqual(['v5', 'v6', 'v7', 'v8'])
    expect(p.nextOffset).toBe('9')
  })

  it('a batch whose CRC32C does not match fails with CorruptRecordBatchError naming the partition and offset', async () => {
    const records = batch(70, msgs(2))
    records.writeUInt8(records.readUInt8(records.length - 1) ^ 0xff, records.length - 1)
    const error = await decode(records, 70).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CorruptRecordBatchError)
    expect(String(error)).toContain('offset 70 of t[2]')
  })
})
