/**
 * OffsetFetch v7 with `require_stable` (KIP-447), which kafkajs (OffsetFetch up to v4) cannot send.
 *
 * A group's offsets committed inside a Kafka transaction become visible to OffsetFetch only once
 * the group coordinator has applied the transaction's commit marker, which it does a moment after
 * the transaction coordinator counts the transaction as complete. Without `require_stable` a new
 * writer that has just closed its predecessor's transaction (InitProducerId) can read the offsets
 * from before that transaction and process its batch again: a committed duplicate under
 * exactly-once (test/kafka/group-offsets.test.ts shows the stale read). With it, the coordinator answers
 * UNSTABLE_OFFSET_COMMIT for a partition whose transactional offsets are pending, and the caller
 * retries. Kafka's Java consumer sends it the same way under read_committed.
 */
import { createRequire } from 'node:module'
import { type KafkaBroker, sendRequest } from './cluster.js'

const require = createRequire(import.meta.url)
type KafkajsEncoder = {
  writeUVarIntBytes(): KafkajsEncoder
  writeUVarIntString(s: string): KafkajsEncoder
  writeUVarIntArray(items: unknown[], type?: string): KafkajsEncoder
  writeInt32(n: number): KafkajsEncoder
  writeBoolean(b: boolean): KafkajsEncoder
}
type KafkajsDecoder = {
  readTaggedFields(): void
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readUVarIntString(): string | null
  readUVarIntArray<T>(read: (d: KafkajsDecoder) => T): T[]
}
const Encoder = require('kafkajs/src/protocol/encoder') as new () => KafkajsEncoder
const Decoder = require('kafkajs/src/protocol/decoder') as new (data: Buffer) => KafkajsDecoder
const { createErrorFromCode, failure } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): Error & { type: string }
  failure(code: number): boolean
}

const OFFSET_FETCH_API_KEY = 9
const VERSION = 7

export interface OffsetFetchResult {
  responses: { topic: string; partitions: { partition: number; offset: string; metadata?: string | null }[] }[]
}

/** Whether `broker` answers OffsetFetch v7 (Kafka 2.5 and later); kafkajs keeps what ApiVersions said. */
export function supportsStableOffsetFetch(broker: KafkaBroker): boolean {
  const versions = (broker as { versions?: Record<number, { maxVersion: number }> }).versions
  return (versions?.[OFFSET_FETCH_API_KEY]?.maxVersion ?? 0) >= VERSION
}

/** The request body: tagged fields of request header v2 first (kafkajs writes header v1). */
function encodeOffsetFetchV7(
  groupId: string,
  topics: readonly { topic: string; partitions: readonly number[] }[],
  requireStable: boolean,
): KafkajsEncoder {
  return new Encoder()
    .writeUVarIntBytes()
    .writeUVarIntString(groupId)
    .writeUVarIntArray(
      topics.map(({ topic, partitions }) =>
        new Encoder()
          .writeUVarIntString(topic)
          .writeUVarIntArray(partitions.map((p) => new Encoder().writeInt32(p)))
          .writeUVarIntBytes(),
      ),
    )
    .writeBoolean(requireStable)
    .writeUVarIntBytes()
}

interface DecodedPartition {
  partition: number
  offset: string
  metadata: string | null
  errorCode: number
}

/** The response, after kafkajs read the correlation id: tagged fields of response header v1 first. */
function decodeOffsetFetchV7(data: Buffer): {
  errorCode: number
  topics: { topic: string; partitions: DecodedPartition[] }[]
} {
  const d = new Decoder(data)
  d.readTaggedFields()
  d.readInt32() // throttle time
  const topics = d.readUVarIntArray((t) => {
    const topic = t.readUVarIntString() ?? ''
    const partitions = t.readUVarIntArray((p) => {
      const partition = p.readInt32()
      const offset = p.readInt64().toString()
      p.readInt32() // committed leader epoch
      const metadata = p.readUVarIntString()
      const errorCode = p.readInt16()
      p.readTaggedFields()
      return { partition, offset, metadata, errorCode }
    })
    t.readTaggedFields()
    return { topic, partitions }
  })
  const errorCode = d.readInt16()
  d.readTaggedFields()
  return { errorCode, topics }
}

/**
 * Committed offsets of `groupId` from its coordinator `broker`, with `require_stable`. Rejects with
 * kafkajs's error for the group's or the first partition's error (UNSTABLE_OFFSET_COMMIT while a
 * transaction's offsets are pending: retriable).
 */
export async function fetchStableOffsets(
  broker: KafkaBroker,
  groupId: string,
  topics: readonly { topic: string; partitions: readonly number[] }[],
): Promise<OffsetFetchResult> {
  return (await sendRequest(broker, {
    request: {
      apiKey: OFFSET_FETCH_API_KEY,
      apiVersion: VERSION,
      apiName: 'OffsetFetch',
      encode: async () => encodeOffsetFetchV7(groupId, topics, true),
    },
    response: {
      decode: async (data: Buffer) => decodeOffsetFetchV7(data),
      parse: async (decoded: ReturnType<typeof decodeOffsetFetchV7>): Promise<OffsetFetchResult> => {
        if (failure(decoded.errorCode)) throw createErrorFromCode(decoded.errorCode)
        for (const t of decoded.topics)
          for (const p of t.partitions) if (failure(p.errorCode)) throw createErrorFromCode(p.errorCode)
        return {
          responses: decoded.topics.map(({ topic, partitions }) => ({
            topic,
            partitions: partitions.map(({ partition, offset, metadata }) => ({ partition, offset, metadata })),
          })),
        }
      },
    },
  })) as OffsetFetchResult
}
