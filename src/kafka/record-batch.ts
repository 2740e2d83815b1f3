/**
 * Encodes a Produce request (versions 3 to 7 share one layout) with its record batches (Kafka's
 * v2 format, uncompressed) into one buffer of exactly the right size: sizes are computed first,
 * then every field is written once, with no intermediate buffers and no 64-bit number objects.
 * The CRC32C of each batch comes from @node-rs/crc32 (native) when it loads, else from kafkajs's.
 *
 * kafkajs's encoder grows its buffer by doubling, copies every record into it and builds a Long
 * per timestamp; on the pass-through benchmark that was half of all CPU (see docs/design.md).
 */
import { createRequire } from 'node:module'
import type { OutgoingMessage } from '../types.js'

const require = createRequire(import.meta.url)

/** CRC32C (Castagnoli) of a buffer, as an unsigned 32-bit number. */
export const crc32c: (data: Buffer) => number = loadCrc32c()

function loadCrc32c(): (data: Buffer) => number {
  try {
    const native = require('@node-rs/crc32') as { crc32c: (input: Buffer, initial?: number) => number }
    return (data) => native.crc32c(data) >>> 0
  } catch {
    // no prebuilt binary for this platform: kafkajs's table-driven JavaScript version
    const js = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (data: Buffer) => number
    return (data) => js(data) >>> 0
  }
}

/** A transactional (and idempotent) producer's identity in a record batch. */
export interface BatchProducer {
  producerId: string
  producerEpoch: number
  baseSequence: number
}

/** The partitions of one topic in a Produce request, each with its messages in order. */
export interface ProduceTopicData {
  topic: string
  partitions: { partition: number; messages: readonly OutgoingMessage[]; producer?: BatchProducer }[]
}

/** Bytes of a v2 record batch's header, baseOffset through the record count. */
const BATCH_HEADER = 61
/** Offset, in a record batch, of the first byte the CRC covers (the attributes). */
const CRC_START = 21

const TWO_32 = 2 ** 32

/** Bytes of `value` as an unsigned LEB128 varint (value ≥ 0, up to 2^53). */
function uvarintSize(value: number): number {
  let size = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    size++
  }
  return size
}

/** Zig-zag encoding of a signed integer, as a non-negative number (safe up to ±2^52). */
const zigzag = (value: number) => (value >= 0 ? value * 2 : -value * 2 - 1)

function writeUvarint(buf: Buffer, offset: number, value: number): number {
  while (value >= 128) {
    buf[offset++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 128)
  }
  buf[offset++] = value
  return offset
}

const byteLength = (v: Buffer | string) => (typeof v === 'string' ? Buffer.byteLength(v) : v.length)

function writeBytes(buf: Buffer, offset: number, v: Buffer | string, length: number): number {
  if (typeof v === 'string') buf.write(v, offset, length, 'utf8')
  else buf.set(v, offset)
  return offset + length
}

function writeInt64(buf: Buffer, offset: number, value: number): void {
  const high = Math.floor(value / TWO_32)
  buf.writeInt32BE(high, offset)
  buf.writeUInt32BE(value - high * TWO_32, offset + 4)
}

/** Per message: its key and value lengths (-1: null) and its record body length; reused across calls. */
let scratch = new Float64Array(3 * 1024)

const timestampOf = (m: OutgoingMessage, now: number) => (m.timestamp === undefined ? now : Number(m.timestamp))

/**
 * Sizes of one partition's records, written into `scratch` from `at`; returns the bytes of its
 * record batch. Timestamps: the message's own (ms since the epoch) or `now`.
 */
function sizeBatch(messages: readonly OutgoingMessage[], at: number, now: number): number {
  const base = messages.length > 0 ? timestampOf(messages[0] as OutgoingMessage, now) : now
  let bytes = BATCH_HEADER
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as OutgoingMessage
    const keyLength = m.key == null ? -1 : byteLength(m.key)
    const valueLength = m.value == null ? -1 : byteLength(m.value)
    let body = 1 + uvarintSize(zigzag(timestampOf(m, now) - base)) + uvarintSize(i * 2)
    body += uvarintSize(zigzag(keyLength)) + Math.max(0, keyLength)
    body += uvarintSize(zigzag(valueLength)) + Math.max(0, valueLength)
    let headerCount = 0
    if (m.headers) {
      for (const name in m.headers) {
        const n = Buffer.byteLength(name)
        const v = byteLength(m.headers[name] as Buffer | string)
        body += uvarintSize(n * 2) + n + uvarintSize(v * 2) + v
        headerCount++
      }
    }
    body += uvarintSize(headerCount * 2)
    const s = (at + i) * 3
    scratch[s] = keyLength
    scratch[s + 1] = valueLength
    scratch[s + 2] = body
    bytes += uvarintSize(body * 2) + body
  }
  return bytes
}

function writeBatch(
  buf: Buffer,
  start: number,
  messages: readonly OutgoingMessage[],
  at: number,
  now: number,
  end: number,
  producer?: BatchProducer,
): void {
  const base = messages.length > 0 ? timestampOf(messages[0] as OutgoingMessage, now) : now
  let maxTimestamp = base
  let o = start + BATCH_HEADER
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as OutgoingMessage
    const s = (at + i) * 3
    const keyLength = scratch[s] as number
    const valueLength = scratch[s + 1] as number
    const ts = timestampOf(m, now)
    if (ts > maxTimestamp) maxTimestamp = ts
    o = writeUvarint(buf, o, (scratch[s + 2] as number) * 2)
    buf[o++] = 0 // record attributes
    o = writeUvarint(buf, o, zigzag(ts - base))
    o = writeUvarint(buf, o, i * 2)
    o = writeUvarint(buf, o, zigzag(keyLength))
    if (keyLength > 0) o = writeBytes(buf, o, m.key as Buffer | string, keyLength)
    o = writeUvarint(buf, o, zigzag(valueLength))
    if (valueLength > 0) o = writeBytes(buf, o, m.value as Buffer | string, valueLength)
    let headerCount = 0
    if (m.headers) for (const _ in m.headers) headerCount++
    o = writeUvarint(buf, o, headerCount * 2)
    if (m.headers) {
      for (const name in m.headers) {
        const n = Buffer.byteLength(name)
        o = writeUvarint(buf, o, n * 2)
        o += buf.write(name, o, n, 'utf8')
        const v = m.headers[name] as Buffer | string
        const vLength = byteLength(v)
        o = writeUvarint(buf, o, vLength * 2)
        o = writeBytes(buf, o, v, vLength)
      }
    }
  }
  if (o !== end) throw new Error(`record batch encoding wrote ${o - start} bytes, expected ${end - start}`)
  writeInt64(buf, start, 0) // baseOffset: the broker assigns offsets
  buf.writeInt32BE(end - start - 12, start + 8) // batchLength: the bytes after this field
  buf.writeInt32BE(-1, start + 12) // partitionLeaderEpoch: none (a producer's batch)
  buf[start + 16] = 2 // magic
  // attributes: no compression, create time; transactional (0x10) with a producer
  buf.writeInt16BE(producer ? 0x10 : 0, start + 21)
  buf.writeInt32BE(messages.length - 1, start + 23) // lastOffsetDelta
  writeInt64(buf, start + 27, base)
  writeInt64(buf, start + 35, maxTimestamp)
  if (producer) {
    buf.writeBigInt64BE(BigInt(producer.producerId), start + 43)
    buf.writeInt16BE(producer.producerEpoch, start + 51)
    buf.writeInt32BE(producer.baseSequence, start + 53)
  } else {
    writeInt64(buf, start + 43, -1) // producerId: none
    buf.writeInt16BE(-1, start + 51) // producerEpoch
    buf.writeInt32BE(-1, start + 53) // baseSequence
  }
  buf.writeInt32BE(messages.length, start + 57)
  buf.writeUInt32BE(crc32c(buf.subarray(start + CRC_START, end)), start + 17)
}

/** One record batch (base offset 0) holding `messages`. */
export function encodeRecordBatch(messages: readonly OutgoingMessage[], now = Date.now()): Buffer {
  if (scratch.length < messages.length * 3) scratch = new Float64Array(messages.length * 3)
  const bytes = sizeBatch(messages, 0, now)
  const buf = Buffer.allocUnsafe(bytes)
  writeBatch(buf, 0, messages, 0, now, bytes)
  return buf
}

/**
 * The body of a Produce request (v3 to v7): transactional id (null unless given), acks, timeout,
 * then per topic its partitions' record batches. `now` stamps messages that carry no timestamp.
 */
export function encodeProduceRequest(
  acks: number,
  timeoutMs: number,
  topics: readonly ProduceTopicData[],
  now = Date.now(),
  transactionalId?: string,
): Buffer {
  let count = 0
  for (const t of topics) for (const p of t.partitions) count += p.messages.length
  if (scratch.length < count * 3) scratch = new Float64Array(count * 3)
  const batchBytes: number[] = []
  const txnIdLength = transactionalId === undefined ? 0 : Buffer.byteLength(transactionalId)
  let size = 2 + txnIdLength + 2 + 4 + 4
  let at = 0
  for (const t of topics) {
    size += 2 + Buffer.byteLength(t.topic) + 4
    for (const p of t.partitions) {
      const bytes = sizeBatch(p.messages, at, now)
      at += p.messages.length
      batchBytes.push(bytes)
      size += 4 + 4 + bytes
    }
  }
  const buf = Buffer.allocUnsafe(size)
  let o = buf.writeInt16BE(transactionalId === undefined ? -1 : txnIdLength, 0) // transactional_id
  if (transactionalId !== undefined) o += buf.write(transactionalId, o, txnIdLength, 'utf8')
  o = buf.writeInt16BE(acks, o)
  o = buf.writeInt32BE(timeoutMs, o)
  o = buf.writeInt32BE(topics.length, o)
  at = 0
  let b = 0
  for (const t of topics) {
    const nameLength = Buffer.byteLength(t.topic)
    o = buf.writeInt16BE(nameLength, o)
    o += buf.write(t.topic, o, nameLength, 'utf8')
    o = buf.writeInt32BE(t.partitions.length, o)
    for (const p of t.partitions) {
      const bytes = batchBytes[b++] as number
      o = buf.writeInt32BE(p.partition, o)
      o = buf.writeInt32BE(bytes, o)
      writeBatch(buf, o, p.messages, at, now, o + bytes, p.producer)
      at += p.messages.length
      o += bytes
    }
  }
  return buf
}
