/**
 * Decodes a Fetch response (v11) straight into the messages process() receives: one pass over the
 * record batches, keys and values as views of the response buffer, offsets and timestamps as plain
 * numbers until they become strings, every batch's CRC32C checked (as Kafka's Java consumer does
 * by default). Applies the consumer's rules on the way: records below the fetch offset are
 * skipped (a batch starts before it), aborted transactions (read_committed) and control records
 * are dropped, and a partial batch at the end of a partition's data (the broker cuts at maxBytes)
 * is left for the next fetch. kafkajs's decoder built a Long per field and an object per record
 * that was then copied; it was a third of all CPU on the pass-through benchmark.
 *
 * Legacy message sets (magic 0 and 1, written by brokers before 0.11 and still readable on 3.x)
 * and compressed batches go through kafkajs's decoders and codecs.
 */
import { createRequire } from 'node:module'
import type { IncomingMessage } from '../types.js'
import { Cursor } from './cursor.js'
import { crc32c } from './record-batch.js'
import { type MessageRun, RecordRun } from './record-run.js'
import { tpKey } from './topic-partitions.js'

const require = createRequire(import.meta.url)
type KafkajsDecoder = { readInt32(): number }
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkajsDecoder
const decodeLegacy = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as (
  decoder: KafkajsDecoder,
) => Promise<RawMessage[]>
const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression') as {
  lookupCodecByAttributes: (attributes: number) => { decompress(data: Buffer): Promise<Buffer> } | undefined
}

/** A record as kafkajs's legacy message set decoder gives it. */
export interface RawMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers?: Record<string, Buffer | string | undefined>
  isControlRecord?: boolean
}

export interface FetchedPartition {
  partition: number
  errorCode: number
  highWatermark: string
  /**
   * Records at or past the fetch offset, without aborted transactional records and control records
   * (a RecordRun: message objects are made when they are taken).
   */
  messages: MessageRun
  /** The offset of the last record at or past the fetch offset, filtered ones included. */
  lastOffset?: string
  /** Records came back, but all below the fetch offset (the rest of their batch was compacted away). */
  onlyBelowFetchOffset: boolean
  /**
   * Where the next fetch starts: one past the last offset of the last complete batch that reached
   * the fetch offset (the Java consumer's rule; it steps past records compacted out of a batch's
   * tail at once). Undefined when no such batch came back, or for legacy message sets.
   */
  nextOffset?: string
}

export interface DecodedFetchResponse {
  /** How long the broker asks us to wait before the next request (kafkajs's connection honours it). */
  clientSideThrottleTime: number
  errorCode: number
  responses: { topicName: string; partitions: FetchedPartition[] }[]
}

/** A record batch whose stored checksum does not match its bytes. No retry cures it. */
export class CorruptRecordBatchError extends Error {
  readonly type = 'CORRUPT_MESSAGE'
  constructor(
    readonly topic: string,
    readonly partition: number,
    offset: number,
  ) {
    super(`record batch at offset ${offset} of ${topic}[${partition}] fails its CRC32C check`)
  }
}

const BATCH_HEADER = 61
/** A record's smallest encoding: length, attributes, timestamp and offset deltas, key and value lengths, header count. */
const MIN_RECORD_BYTES = 7
const TRANSACTIONAL = 0x10
const CONTROL = 0x20
const LOG_APPEND_TIME = 0x08
const COMPRESSION = 0x07

/** read_committed state across the batches of one partition's data. */
class AbortedFilter {
  readonly #pending: { producerId: number; firstOffset: number }[]
  readonly #aborting = new Set<number>()

  constructor(aborted: { producerId: number; firstOffset: number }[]) {
    this.#pending = aborted.sort((a, b) => a.firstOffset - b.firstOffset)
  }

  get empty(): boolean {
    return this.#pending.length === 0 && this.#aborting.size === 0
  }

  /** True when a batch's records belong to an aborted transaction (the Java consumer's rule, per batch). */
  skips(producerId: number, transactional: boolean, control: boolean, lastOffset: number): boolean {
    while (this.#pending.length > 0 && (this.#pending[0]?.firstOffset ?? Infinity) <= lastOffset)
      this.#aborting.add(this.#pending.shift()?.producerId ?? -1)
    return transactional && !control && this.#aborting.has(producerId)
  }

  /** A control batch's ABORT marker ends that producer's aborted transaction. */
  ended(producerId: number): void {
    this.#aborting.delete(producerId)
  }
}

interface PartitionContext {
  topic: string
  partition: number
  fetchOffset: number
  aborted: AbortedFilter | undefined
  out: FetchedPartition
  /** Where the records of magic 2 batches go (out.messages). */
  run: RecordRun
}

function decodeRecords(c: Cursor, end: number, count: number, ctx: PartitionContext, batch: BatchInfo): void {
  const { fetchOffset, out, run } = ctx
  const buffer = run.addBuffer(c.buf)
  if (!batch.skip && !batch.control) run.reserve(Math.min(count, Math.floor((end - c.o) / MIN_RECORD_BYTES)))
  for (let i = 0; i < count && c.o < end; i++) {
    const length = c.varint()
    const next = c.o + length
    c.o++ // record attributes: unused
    const timestampDelta = c.varint()
    const offset = batch.baseOffset + c.varint()
    if (offset < fetchOffset) {
      out.onlyBelowFetchOffset = out.lastOffset === undefined
      c.o = next
      continue
    }
    out.onlyBelowFetchOffset = false
    out.lastOffset = String(offset)
    if (batch.skip) {
      c.o = next
      continue
    }
    if (batch.control) {
      // a control record: key = version (int16), type (int16: 0 ABORT, 1 COMMIT)
      const key = c.bytes()
      if (key && key.length >= 4 && key.readInt16BE(2) === 0) ctx.aborted?.ended(batch.producerId)
      c.o = next
      continue
    }
    // key, value and headers are read when the message is taken (record-run.ts)
    run.add(buffer, c.o, offset, batch.logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + timestampDelta)
    c.o = next
  }
}

interface BatchInfo {
  baseOffset: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  control: boolean
  logAppendTime: boolean
  skip: boolean
}

/** Decodes one partition's record batches (magic 2) from `start` to `end`. */
async function decodeBatches(buf: Buffer, start: number, end: number, ctx: PartitionContext): Promise<void> {
  let o = start
  while (end - o >= BATCH_HEADER) {
    const c = new Cursor(buf, o)
    const baseOffset = c.int64()
    const batchEnd = o + 12 + c.int32()
    if (batchEnd > end) return // a partial batch: the broker cut the data at maxBytes
    c.o += 4 // partition leader epoch
    if (c.int8() !== 2) throw new Error(`magic ${buf[o + 16]} batch after magic 2 batches`)
    const crc = c.buf.readUInt32BE(c.o)
    if (crc32c(buf.subarray(o + 21, batchEnd)) !== crc)
      throw new CorruptRecordBatchError(ctx.topic, ctx.partition, baseOffset)
    c.o += 4
    const attributes = c.int16()
    const lastOffset = baseOffset + c.int32()
    const baseTimestamp = c.int64()
    const maxTimestamp = c.int64()
    const producerId = c.int64()
    c.o += 2 + 4 // producer epoch, base sequence
    const count = c.int32()
    o = batchEnd
    if (lastOffset < ctx.fetchOffset) {
      // entirely below the fetch offset
      ctx.out.onlyBelowFetchOffset ||= ctx.out.lastOffset === undefined && count > 0
      continue
    }
    ctx.out.nextOffset = String(lastOffset + 1)
    const control = (attributes & CONTROL) !== 0
    const batch: BatchInfo = {
      baseOffset,
      baseTimestamp,
      maxTimestamp,
      producerId,
      control,
      logAppendTime: (attributes & LOG_APPEND_TIME) !== 0,
      skip: ctx.aborted?.skips(producerId, (attributes & TRANSACTIONAL) !== 0, control, lastOffset) ?? false,
    }
    if ((attributes & COMPRESSION) === 0) {
      decodeRecords(c, batchEnd, count, ctx, batch)
    } else {
      const codec = lookupCodecByAttributes(attributes)
      if (!codec)
        throw new Error(`unknown compression codec ${attributes & COMPRESSION} in ${ctx.topic}[${ctx.partition}]`)
      const records = await codec.decompress(buf.subarray(c.o, batchEnd))
      decodeRecords(new Cursor(records, 0), records.length, count, ctx, batch)
    }
  }
}

/** Legacy message sets (magic 0/1): kafkajs's decoder and its consumer's Batch rules. */
async function decodeLegacyPartition(buf: Buffer, sizeAt: number, end: number, ctx: PartitionContext): Promise<void> {
  const raw = await decodeLegacy(new Decoder(buf.subarray(sizeAt, end)))
  const within = raw.filter((m) => Number(m.offset) >= ctx.fetchOffset)
  ctx.out.onlyBelowFetchOffset = raw.length > 0 && within.length === 0
  ctx.out.lastOffset = within.at(-1)?.offset
  const messages: IncomingMessage[] = []
  ctx.out.messages = messages
  for (const m of within) {
    if (m.isControlRecord) continue
    messages.push({
      topic: ctx.topic,
      partition: ctx.partition,
      offset: m.offset,
      timestamp: m.timestamp,
      key: m.key,
      value: m.value,
      headers: (m.headers ?? {}) as Record<string, Buffer>,
    })
  }
}

/**
 * Decodes a Fetch v11 response. `fetchOffsets` (by topic-partition key) are the offsets the
 * request asked for; `readCommitted` applies the aborted-transaction lists the broker sends.
 */
export async function decodeFetchResponse(
  buf: Buffer,
  fetchOffsets: ReadonlyMap<string, string>,
  readCommitted: boolean,
): Promise<DecodedFetchResponse> {
  const c = new Cursor(buf, 0)
  const clientSideThrottleTime = c.int32()
  const errorCode = c.int16()
  c.o += 4 // session id
  const responses: DecodedFetchResponse['responses'] = []
  for (let t = c.int32(); t > 0; t--) {
    const topic = c.string()
    const partitions: FetchedPartition[] = []
    for (let p = c.int32(); p > 0; p--) {
      const partition = c.int32()
      const out: FetchedPartition = {
        partition,
        errorCode: c.int16(),
        highWatermark: buf.readBigInt64BE(c.o).toString(),
        messages: [],
        onlyBelowFetchOffset: false,
      }
      c.o += 8 + 8 + 8 // high watermark, last stable offset, log start offset
      const aborted: { producerId: number; firstOffset: number }[] = []
      for (let a = c.int32(); a > 0; a--) aborted.push({ producerId: c.int64(), firstOffset: c.int64() })
      c.o += 4 // preferred read replica
      const sizeAt = c.o
      const size = c.int32()
      const start = c.o
      const end = start + Math.max(0, size)
      c.o = end
      partitions.push(out)
      if (size < BATCH_HEADER || out.errorCode !== 0) continue
      const ctx: PartitionContext = {
        topic,
        partition,
        fetchOffset: Number(fetchOffsets.get(tpKey(topic, partition)) ?? 0),
        aborted: readCommitted && aborted.length > 0 ? new AbortedFilter(aborted) : undefined,
        out,
        run: new RecordRun(topic, partition),
      }
      out.messages = ctx.run
      if ((buf[start + 16] as number) < 2) await decodeLegacyPartition(buf, sizeAt, end, ctx)
      else {
        // Keys and values are views of this copy of the partition's data: it is freed once this
        // partition's messages are processed, while views of the whole response would keep every
        // partition's data alive until the last of them was processed.
        const own = Buffer.from(buf.subarray(start, end))
        await decodeBatches(own, 0, own.length, ctx)
      }
    }
    responses.push({ topicName: topic, partitions })
  }
  return { clientSideThrottleTime, errorCode, responses }
}
