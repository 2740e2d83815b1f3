/**
 * Test-side Fetch wire format: reads a Fetch v11 request (as kafkajs encodes it) and writes a
 * Fetch v11 response, so the fake cluster answers through the real decoder (src/kafka/fetch-response.ts).
 */
import { crc32c, encodeRecordBatch } from '../../src/kafka/record-batch.js'
import { Decoder } from './produce-request-decoder.js'

export interface FetchRequest {
  isolationLevel: number
  maxWaitTime: number
  maxBytes: number
  topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[]
}

export interface WireRecord {
  offset: string
  timestamp?: string
  key: Buffer | null
  value: Buffer | null
  headers?: Record<string, Buffer | string>
  isControlRecord?: boolean
}

export interface FetchPartitionResponse {
  partition: number
  errorCode: number
  highWatermark: string
  abortedTransactions?: { producerId: number; firstOffset: number }[]
  messages: WireRecord[]
}

export interface FetchResponse {
  responses: { topicName: string; partitions: FetchPartitionResponse[] }[]
}

export function parseFetchRequest(body: Buffer): FetchRequest {
  const d = new Decoder(body)
  d.readInt32() // replica id
  const maxWaitTime = d.readInt32()
  d.readInt32() // min bytes
  const maxBytes = d.readInt32()
  const isolationLevel = d.readInt8()
  d.readInt32() // session id
  d.readInt32() // session epoch
  const topics: FetchRequest['topics'] = []
  for (let t = d.readInt32(); t > 0; t--) {
    const topic = d.readString() ?? ''
    const partitions: FetchRequest['topics'][number]['partitions'] = []
    for (let p = d.readInt32(); p > 0; p--) {
      const partition = d.readInt32()
      d.readInt32() // current leader epoch
      const fetchOffset = d.readInt64().toString()
      d.readInt64() // log start offset
      partitions.push({ partition, fetchOffset, maxBytes: d.readInt32() })
    }
    topics.push({ topic, partitions })
  }
  return { isolationLevel, maxWaitTime, maxBytes, topics }
}

/** Sets a batch's base offset, attributes, producer id or record count, and its CRC to match. */
export function patchBatch(
  batch: Buffer,
  fields: { baseOffset?: number; attributes?: number; producerId?: number; lastOffsetDelta?: number; count?: number },
): Buffer {
  if (fields.count !== undefined) batch.writeInt32BE(fields.count, 57)
  if (fields.baseOffset !== undefined) batch.writeBigInt64BE(BigInt(fields.baseOffset), 0)
  if (fields.attributes !== undefined) batch.writeInt16BE(fields.attributes, 21)
  if (fields.lastOffsetDelta !== undefined) batch.writeInt32BE(fields.lastOffsetDelta, 23)
  if (fields.producerId !== undefined) batch.writeBigInt64BE(BigInt(fields.producerId), 43)
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17)
  return batch
}

/** One record batch per record, at its offset; control records in control batches. */
export function recordsOf(messages: readonly WireRecord[]): Buffer {
  return Buffer.concat(
    messages.map((m) =>
      patchBatch(
        encodeRecordBatch(
          [{ topic: '', key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp ?? '0' }],
          0,
        ),
        { baseOffset: Number(m.offset), ...(m.isControlRecord ? { attributes: 0x20 } : {}) },
      ),
    ),
  )
}

/** A Fetch v11 response; `records` overrides a partition's record bytes. */
export function encodeFetchResponse(response: FetchResponse, records?: (p: FetchPartitionResponse) => Buffer): Buffer {
  const parts: Buffer[] = []
  const int16 = (v: number) => {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    parts.push(b)
  }
  const int32 = (v: number) => {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    parts.push(b)
  }
  const int64 = (v: string | number) => {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(BigInt(v))
    parts.push(b)
  }
  const string = (s: string) => {
    int16(Buffer.byteLength(s))
    parts.push(Buffer.from(s))
  }
  int32(0) // throttle time
  int16(0) // error code
  int32(0) // session id
  int32(response.responses.length)
  for (const { topicName, partitions } of response.responses) {
    string(topicName)
    int32(partitions.length)
    for (const p of partitions) {
      int32(p.partition)
      int16(p.errorCode)
      int64(p.highWatermark)
      int64(p.highWatermark) // last stable offset
      int64(0) // log start offset
      if (p.abortedTransactions) {
        int32(p.abortedTransactions.length)
        for (const a of p.abortedTransactions) {
          int64(a.producerId)
          int64(a.firstOffset)
        }
      } else int32(-1)
      int32(-1) // preferred read replica
      const data = records ? records(p) : recordsOf(p.messages)
      int32(data.length)
      parts.push(data)
    }
  }
  return Buffer.concat(parts)
}
