/**
 * The records of one topic-partition from one fetch, kept as positions in the fetched bytes until
 * they are taken for a batch. A processor buffers up to `maxBufferedMessagesPerPartition` messages
 * per partition ahead of process(); as objects (a message, its offset and timestamp strings, views
 * for key and value) they outlived several young-generation collections and were promoted, which
 * grew the heap well past the data's size. Here a waiting record costs four numbers in a typed
 * array, and its message object is made when its batch is taken and dies with the batch.
 */
import type { IncomingMessage } from '../types.js'
import { Cursor } from './cursor.js'

/** Fetched messages of one topic-partition in offset order; an array of messages is one too. */
export interface MessageRun {
  readonly length: number
  /** The messages from `start` to `end` (exclusive), as objects. */
  slice(start?: number, end?: number): IncomingMessage[]
}

/** Shared by every message without headers (most of them): one object fewer per message. */
const NO_HEADERS: Record<string, Buffer> = Object.freeze({}) as Record<string, Buffer>

/** Per record in RecordRun's packed storage: which buffer, where its key starts, its offset, its timestamp. */
const SLOTS = 4

export class RecordRun implements MessageRun {
  readonly #buffers: Buffer[] = []
  /**
   * The records, SLOTS numbers each, in a typed array sized by the record counts of the batches
   * (reserve()): its memory is outside V8's heap, and a run of one record batch allocates it once.
   * Growable arrays of numbers were reallocated as they grew and, waiting in the read-ahead, were
   * promoted: about 50 MiB of old-generation garbage per million records.
   */
  #data = new Float64Array(0)
  #length = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Makes room for `records` more: exactly, for the first batch; at least doubling after it. */
  reserve(records: number): void {
    const needed = (this.#length + records) * SLOTS
    if (needed <= this.#data.length) return
    const data = new Float64Array(Math.max(needed, this.#data.length * 2))
    data.set(this.#data.subarray(0, this.#length * SLOTS))
    this.#data = data
  }

  get length(): number {
    return this.#length
  }

  /** Adds a buffer records point into (the partition's data, or a decompressed batch); returns its index. */
  addBuffer(buf: Buffer): number {
    if (this.#buffers.at(-1) === buf) return this.#buffers.length - 1
    this.#buffers.push(buf)
    return this.#buffers.length - 1
  }

  /** A record whose key's length varint starts at `at` of buffer `buffer`. */
  add(buffer: number, at: number, offset: number, timestamp: number): void {
    const i = this.#length * SLOTS
    if (i + SLOTS > this.#data.length) this.reserve(1)
    const data = this.#data
    data[i] = buffer
    data[i + 1] = at
    data[i + 2] = offset
    data[i + 3] = timestamp
    this.#length++
  }

  slice(start = 0, end = this.length): IncomingMessage[] {
    const from = Math.max(0, start)
    const to = Math.min(end, this.length)
    const out: IncomingMessage[] = []
    for (let i = from; i < to; i++) out.push(this.#message(i))
    return out
  }

  #message(i: number): IncomingMessage {
    const data = this.#data
    const r = i * SLOTS
    const c = new Cursor(this.#buffers[data[r] as number] as Buffer, data[r + 1] as number)
    const key = c.bytes()
    const value = c.bytes()
    const headerCount = c.varint()
    const headers: Record<string, Buffer | Buffer[]> = headerCount === 0 ? NO_HEADERS : {}
    for (let h = headerCount; h > 0; h--) {
      const nameLength = c.varint()
      const name = c.buf.toString('utf8', c.o, c.o + nameLength)
      c.o += nameLength
      const v = c.bytes() ?? Buffer.alloc(0)
      const seen = headers[name]
      headers[name] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v]
    }
    return {
      topic: this.topic,
      partition: this.partition,
      offset: String(data[r + 2]),
      timestamp: String(data[r + 3]),
      key,
      value,
      headers: headers as Record<string, Buffer>,
    }
  }
}
