/**
 * A Fetch request (v11, built by kafkajs's request encoder) whose response is decoded by
 * fetch-response.ts, sent over a kafkajs broker's connection.
 */
import { createRequire } from 'node:module'
import type { KafkaBroker } from './cluster.js'
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

export interface FetchRequest {
  isolationLevel: number
  maxWaitTime: number
  minBytes: number
  maxBytes: number
  topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[]
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
  const fetchOffsets = new Map<string, string>()
  const flat: { topic: string; partition: number; fetchOffset: string; maxBytes: number }[] = []
  for (const { topic, partitions } of request.topics) {
    for (const p of partitions) {
      fetchOffsets.set(tpKey(topic, p.partition), p.fetchOffset)
      flat.push({ topic, ...p })
    }
  }
  const topics: FetchRequest['topics'] = []
  for (const { topic, ...partition } of shuffle(flat)) {
    const last = topics[topics.length - 1]
    if (last?.topic === topic) last.partitions.push(partition)
    else topics.push({ topic, partitions: [partition] })
  }
  const readCommitted = request.isolationLevel === 1
  try {
    return (await broker.connectionPool.send({
      request: fetchV11({ replicaId: -1, ...request, topics }),
      response: { decode: (data: Buffer) => decodeFetchResponse(data, fetchOffsets, readCommitted), parse },
    })) as DecodedFetchResponse
  } catch (error) {
    if ((error as { name?: string } | null)?.name === 'KafkaJSConnectionClosedError') await broker.disconnect()
    throw error
  }
}
