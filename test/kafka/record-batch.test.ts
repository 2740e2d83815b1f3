import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { crc32c, encodeProduceRequest } from '../../src/kafka/record-batch.js'
import type { OutgoingMessage } from '../../src/types.js'
import { decodeProduceRequest } from './produce-request-decoder.js'

const require = createRequire(import.meta.url)
const jsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (data: Buffer) => number

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'))

describe('Produce request encoding (read back with kafkajs’s decoders)', () => {
  it('keys, values and headers as strings, Buffers, null and empty, multi-byte UTF-8', async () => {
    const messages: OutgoingMessage[] = [
      { topic: 't', key: 'k1', value: 'v1' },
      { topic: 't', key: null, value: null },
      { topic: 't', value: '' },
      { topic: 't', key: Buffer.from([0, 255, 7]), value: Buffer.alloc(0) },
      {
        topic: 't',
        key: 'ключ',
        value: 'значение ✓ 🎉',
        headers: { 'trace-id': 'abc', bin: Buffer.from([1, 2]), é: 'ü' },
      },
    ]
    const body = encodeProduceRequest(
      -1,
      30_000,
      [{ topic: 't', partitions: [{ partition: 3, messages }] }],
      1_700_000_000_000,
    )
    const decoded = await decodeProduceRequest(body)
    expect(decoded).toMatchObject({ transactionalId: null, acks: -1, timeout: 30_000 })
    const [partition] = decoded.topicData[0]?.partitions ?? []
    expect(partition?.partition).toBe(3)
    const records = partition?.messages ?? []
    expect(records.map((r) => text(r.key))).toEqual(['k1', null, null, '\u0000\uFFFD\u0007', 'ключ'])
    expect(records[3]?.key).toEqual(Buffer.from([0, 255, 7]))
    expect(records.map((r) => text(r.value))).toEqual(['v1', null, '', '', 'значение ✓ 🎉'])
    expect(records.map((r) => r.offset)).toEqual(['0', '1', '2', '3', '4'])
    expect(records[4]?.headers).toEqual({
      'trace-id': Buffer.from('abc'),
      bin: Buffer.from([1, 2]),
      é: Buffer.from('ü'),
    })
    expect(records[0]?.headers).toEqual({})
    expect(partition?.batch).toMatchObject({ firstOffset: '0', producerId: '-1', lastOffsetDelta: 4 })
    expect(records.every((r) => r.timestamp === '1700000000000')).toBe(true)
  })

  it('message timestamps, earlier and later than the first, and the batch’s max timestamp', async () => {
    const messages: OutgoingMessage[] = [
      { topic: 't', value: 'a', timestamp: '1700000000000' },
      { topic: 't', value: 'b', timestamp: '1600000000000' },
      { topic: 't', value: 'c', timestamp: '1800000000123' },
      { topic: 't', value: 'd' },
    ]
    const now = 1_750_000_000_000
    const body = encodeProduceRequest(-1, 1000, [{ topic: 't', partitions: [{ partition: 0, messages }] }], now)
    const [p] = (await decodeProduceRequest(body)).topicData[0]?.partitions ?? []
    expect(p?.messages.map((r) => r.timestamp)).toEqual([
      '1700000000000',
      '1600000000000',
      '1800000000123',
      String(now),
    ])
    expect(p?.batch.firstTimestamp).toBe('1700000000000')
    expect(p?.batch.maxTimestamp).toBe('1800000000123')
  })

  it('several topics and partitions, thousands of records, values whose lengths take 1 to 3 varint bytes', async () => {
    const topics = ['alpha', 'beta-ü'].map((topic, t) => ({
      topic,
      partitions: [0, 1, 2].map((partition) => ({
        partition,
        messages: Array.from({ length: 1500 }, (_, i) => ({
          topic,
          key: `${t}-${partition}-${i}`,
          value: 'x'.repeat((i * 37) % 20_000),
        })),
      })),
    }))
    const decoded = await decodeProduceRequest(encodeProduceRequest(1, 5000, topics))
    expect(decoded.topicData.map((t) => t.topic)).toEqual(['alpha', 'beta-ü'])
    for (const [t, topic] of decoded.topicData.entries()) {
      for (const [partition, p] of topic.partitions.entries()) {
        expect(p.partition).toBe(partition)
        expect(p.messages).toHaveLength(1500)
        for (const [i, r] of p.messages.entries()) {
          expect(text(r.key)).toBe(`${t}-${partition}-${i}`)
          expect(r.value?.length).toBe((i * 37) % 20_000)
          expect(r.offset).toBe(String(i))
        }
      }
    }
  })

  it('transactional batches: the transactional id, producer id and epoch, each partition its base sequence', async () => {
    const messages: OutgoingMessage[] = [
      { topic: 't', value: 'a' },
      { topic: 't', value: 'b' },
    ]
    const producer = (baseSequence: number) => ({ producerId: '9007199254740993', producerEpoch: 7, baseSequence })
    const body = encodeProduceRequest(
      -1,
      30_000,
      [
        {
          topic: 't',
          partitions: [
            { partition: 0, messages, producer: producer(0) },
            { partition: 1, messages, producer: producer(42) },
          ],
        },
      ],
      1_700_000_000_000,
      'kasper-job-3',
    )
    const decoded = await decodeProduceRequest(body)
    expect(decoded.transactionalId).toBe('kasper-job-3')
    const [p0, p1] = decoded.topicData[0]?.partitions ?? []
    // a producer id past 2^53 survives (it is a 64-bit integer on the wire)
    expect(p0?.batch).toMatchObject({
      producerId: '9007199254740993',
      producerEpoch: 7,
      firstSequence: 0,
      inTransaction: true,
    })
    expect(p1?.batch).toMatchObject({ firstSequence: 42, inTransaction: true })
    expect(p1?.messages.map((r) => text(r.value))).toEqual(['a', 'b'])
    // without a producer: not transactional, no producer id
    const plain = await decodeProduceRequest(
      encodeProduceRequest(-1, 30_000, [{ topic: 't', partitions: [{ partition: 0, messages }] }]),
    )
    expect(plain.transactionalId).toBeNull()
    expect(plain.topicData[0]?.partitions[0]?.batch).toMatchObject({ producerId: '-1', inTransaction: false })
  })

  it('the native CRC32C agrees with kafkajs’s JavaScript one', () => {
    for (const size of [0, 1, 7, 64, 1000, 100_003]) {
      const data = Buffer.from(Array.from({ length: size }, (_, i) => (i * 131 + size) & 0xff))
      expect(crc32c(data)).toBe(jsCrc32c(data) >>> 0)
    }
  })
})
