/**
 * Reads back a Produce request body (v3 to v7) with kafkajs's own decoders, the oracle for
 * src/kafka/record-batch.ts: every record batch's CRC32C is checked as a broker would.
 */
import { createRequire } from 'node:module'
import { crc32c } from '../../src/kafka/record-batch.js'

const require = createRequire(import.meta.url)
/** kafkajs's protocol decoder: the test helpers' reader of wire bytes. */
export type KafkajsDecoder = {
  readInt8(): number
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readString(): string | null
  offset: number
  buffer: Buffer
}
export const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkajsDecoder
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: KafkajsDecoder) => Promise<{
  firstOffset: string
  firstTimestamp: string
  maxTimestamp: string
  producerId: string
  producerEpoch: number
  firstSequence: number
  inTransaction: boolean
  lastOffsetDelta: number
  records: DecodedRecord[]
}>

export interface DecodedRecord {
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  offset: string
  headers: Record<string, Buffer | Buffer[] | undefined>
}

export interface DecodedProduceRequest {
  transactionalId: string | null
  acks: number
  timeout: number
  topicData: {
    topic: string
    partitions: { partition: number; batch: Awaited<ReturnType<typeof decodeBatch>>; messages: DecodedRecord[] }[]
  }[]
}

export async function decodeProduceRequest(body: Buffer): Promise<DecodedProduceRequest> {
  const d = new Decoder(body)
  const transactionalId = d.readString()
  const acks = d.readInt16()
  const timeout = d.readInt32()
  const topicData: DecodedProduceRequest['topicData'] = []
  for (let t = d.readInt32(); t > 0; t--) {
    const topic = d.readString() ?? ''
    const partitions: DecodedProduceRequest['topicData'][number]['partitions'] = []
    for (let p = d.readInt32(); p > 0; p--) {
      const partition = d.readInt32()
      const size = d.readInt32()
      const start = d.offset
      const raw = body.subarray(start, start + size)
      const crc = raw.readUInt32BE(17)
      if (crc32c(raw.subarray(21)) !== crc) throw new Error(`CRC mismatch in ${topic}[${partition}]`)
      if (raw.readInt32BE(8) !== size - 12) throw new Error(`batchLength ${raw.readInt32BE(8)} != ${size - 12}`)
      const batch = await decodeBatch(d)
      if (d.offset !== start + size) throw new Error(`record batch of ${topic}[${partition}] has trailing bytes`)
      partitions.push({ partition, batch, messages: batch.records })
    }
    topicData.push({ topic, partitions })
  }
  if (d.offset !== body.length) throw new Error(`${body.length - d.offset} bytes after the request`)
  return { transactionalId, acks, timeout, topicData }
}
