/**
 * A Fetch request (v11, built by kafkajs's request encoder) whose response is decoded by
 * fetch-response.ts, sent over a kafkajs broker's connection.
 */
import { createRequire } from 'node:module'
import { type KafkaBroker, READ_COMMITTED, sendRequest } from './cluster.js'
import { type DecodedFetchResponse, decodeFetchResponse } from './fetch-response.js'
import { tpKey } from './topic-partitions.js'

const require = createRequire(import.meta.url)
const fetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/request') as (request: unknown) => {
  apiKey: number
  apiVersion: number
  apiName: string
}
// kafkajs's parse: throws the first partition error (KafkaJSOffsetOutOfRange names its topic and partition)
const { parse } = require('kafkajs/src/protocol/requests/fetch/v11/response') as {
  parse: (data: DecodedFetchResponse) => Promise<DecodedFetchResponse>
}

/** One partition to fetch, from `fetchOffset`. */
export interface FetchPartition {
  topic: string
  partition: number
  fetchOffset: string
  maxBytes: number
}

export interface FetchRequest {
  isolationLevel: number
  maxWaitTime: number
  minBytes: number
  maxBytes: number
  partitions: readonly FetchPartition[]
}

/** Fisher-Yates, in place: which partitions come first in a request decides who gets maxBytes first (KIP-74). */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

/** Sends one Fetch to `broker`; resolves with its partitions decoded, rejects with the first partition error. */
export async function sendFetch(broker: KafkaBroker, request: FetchRequest): Promise<DecodedFetchResponse> {
  const { partitions, ...settings } = request
  const fetchOffsets = new Map(partitions.map((p) => [tpKey(p.topic, p.partition), p.fetchOffset]))
  // kafkajs's request takes partitions grouped by topic; consecutive ones of a topic share an entry
  const topics: { topic: string; partitions: Omit<FetchPartition, 'topic'>[] }[] = []
  for (const { topic, ...partition } of shuffle([...partitions])) {
    const last = topics[topics.length - 1]
    if (last?.topic === topic) last.partitions.push(partition)
    else topics.push({ topic, partitions: [partition] })
  }
  const readCommitted = request.isolationLevel === READ_COMMITTED
  return (await sendRequest(broker, {
    request: fetchV11({ replicaId: -1, ...settings, topics }),
    response: { decode: (data: Buffer) => decodeFetchResponse(data, fetchOffsets, readCommitted), parse },
  })) as DecodedFetchResponse
}
