/**
 * A fake multi-leader Kafka cluster for unit tests of the PartitionReader: per topic-partition a log
 * (offsets, possibly with compaction gaps), a leader per partition that tests can move, and per
 * broker a hook that can fail, delay or alter a fetch.
 */
import type { KafkaBroker, KafkaCluster } from '../../src/kafka/cluster.js'
import type { ProduceResponse } from '../../src/kafka/produce-request.js'
import {
  encodeFetchResponse,
  type FetchPartitionResponse,
  type FetchRequest,
  type FetchResponse,
  parseFetchRequest,
  type WireRecord,
} from './fetch-wire.js'
import { type DecodedProduceRequest, decodeProduceRequest } from './produce-request-decoder.js'

/** A Produce request as the fake broker decodes it (src/kafka/record-batch.ts encodes it). */
export type ProduceRequest = DecodedProduceRequest
export type ProduceHook = (
  request: ProduceRequest,
  answer: (request?: ProduceRequest) => ProduceResponse,
) => Promise<ProduceResponse> | ProduceResponse

export interface FakeRecord {
  offset: number
  isControlRecord?: boolean
}

export type BrokerHook = (request: FetchRequest, answer: () => FetchResponse) => Promise<FetchResponse> | FetchResponse

export class FakeCluster implements KafkaCluster {
  readonly logs = new Map<string, FakeRecord[]>()
  /** Leader node id per `topic/partition` as the cluster really has it. */
  readonly leaders = new Map<string, number>()
  /** What the client believes (updated by refreshMetadata). */
  readonly known = new Map<string, number>()
  readonly hooks = new Map<number, BrokerHook>()
  readonly produceHooks = new Map<number, ProduceHook>()
  /** Values appended per `topic/partition` by Produce requests. */
  readonly produced = new Map<string, string[]>()
  produceRequests = 0
  /** Records per partition in one response (the broker's maxBytes, in records). */
  recordsPerFetch = 3
  refreshes = 0
  fetches = 0

  addPartition(topic: string, partition: number, leader: number, offsets: readonly number[]): void {
    const key = `${topic}/${partition}`
    this.logs.set(
      key,
      offsets.map((offset) => ({ offset })),
    )
    this.leaders.set(key, leader)
    this.known.set(key, leader)
  }

  moveLeader(topic: string, partition: number, leader: number): void {
    this.leaders.set(`${topic}/${partition}`, leader)
  }

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async refreshMetadata(): Promise<void> {
    this.refreshes++
    for (const [key, leader] of this.leaders) this.known.set(key, leader)
  }
  async addMultipleTargetTopics(): Promise<void> {}
  findTopicPartitionMetadata(): never {
    throw new Error('not used by the reader')
  }
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]> {
    const out: Record<string, number[]> = {}
    for (const partition of partitions) {
      const leader = this.known.get(`${topic}/${partition}`)
      if (leader === undefined) continue
      out[String(leader)] ??= []
      out[String(leader)]?.push(partition)
    }
    return out
  }
  async findBroker({ nodeId }: { nodeId: string }): Promise<KafkaBroker> {
    const id = Number(nodeId)
    return {
      connectionPool: {
        // Produce and Fetch requests come this way (produce-request.ts, fetch-request.ts), as bytes:
        // the fake reads them and answers in bytes, so the real encoder and decoder are exercised
        send: async (protocolRequest) => {
          const { request: r, response } = protocolRequest as {
            request: { apiName: string; encode: () => Promise<{ buffer: Buffer }> }
            response: { decode(data: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> }
          }
          const body = (await r.encode()).buffer
          if (r.apiName === 'Fetch') {
            const request = parseFetchRequest(body)
            this.fetches++
            const answer = () => this.#answer(id, request)
            const hook = this.hooks.get(id)
            const structured = await (hook ? hook(request, answer) : answer())
            return response.parse(await response.decode(encodeFetchResponse(structured)))
          }
          const request = await decodeProduceRequest(body)
          this.produceRequests++
          const answer = (req: ProduceRequest = request) => this.#append(id, req)
          const hook = this.produceHooks.get(id)
          return hook ? hook(request, answer) : answer()
        },
      },
      disconnect: async () => {},
      lookupRequest: () => {
        throw new Error('the fake cluster has no group protocol: group membership is tested on the real broker')
      },
      offsetCommit: () => Promise.reject(new Error('not used by the reader')),
      offsetFetch: () => Promise.reject(new Error('not used by the reader')),
    }
  }
  findGroupCoordinator(): never {
    throw new Error('not used by the reader')
  }
  removeBroker(): void {}
  fetchTopicsOffset(): never {
    throw new Error('not used by the reader')
  }

  /** Appends what a leader receives; NOT_LEADER_OR_FOLLOWER (thrown, as kafkajs does) for a partition it does not lead. */
  #append(nodeId: number, request: ProduceRequest): ProduceResponse {
    const topics: ProduceResponse['topics'] = []
    for (const { topic, partitions } of request.topicData) {
      for (const { partition } of partitions) {
        if (this.leaders.get(`${topic}/${partition}`) !== nodeId) throw protocolError('NOT_LEADER_OR_FOLLOWER')
      }
      const list: ProduceResponse['topics'][number]['partitions'] = []
      for (const { partition, messages } of partitions) {
        const key = `${topic}/${partition}`
        const log = this.produced.get(key) ?? []
        const baseOffset = String(log.length)
        log.push(...messages.map((m) => String(m.value ?? null)))
        this.produced.set(key, log)
        list.push({ partition, errorCode: 0, baseOffset })
      }
      topics.push({ topicName: topic, partitions: list })
    }
    return { topics }
  }

  /** What a real broker answers: NOT_LEADER_OR_FOLLOWER for partitions it does not lead (kafkajs throws it). */
  #answer(nodeId: number, request: FetchRequest): FetchResponse {
    const responses: FetchResponse['responses'] = []
    for (const { topic, partitions } of request.topics) {
      const list: FetchPartitionResponse[] = []
      for (const { partition, fetchOffset } of partitions) {
        const key = `${topic}/${partition}`
        if (this.leaders.get(key) !== nodeId) throw protocolError('NOT_LEADER_OR_FOLLOWER')
        const log = this.logs.get(key) ?? []
        const from = Number(fetchOffset)
        const end = log.length === 0 ? 0 : (log[log.length - 1]?.offset ?? -1) + 1
        const messages = log
          .filter((r) => r.offset >= from)
          .slice(0, this.recordsPerFetch)
          .map((r) => rawMessage(r))
        list.push({ partition, errorCode: 0, highWatermark: String(end), messages })
      }
      responses.push({ topicName: topic, partitions: list })
    }
    return { responses }
  }
}

export function rawMessage(record: FakeRecord): WireRecord {
  return {
    offset: String(record.offset),
    key: Buffer.from(`k${record.offset}`),
    value: Buffer.from(`v${record.offset}`),
    ...(record.isControlRecord ? { isControlRecord: true } : {}),
  }
}

export function protocolError(type: string): Error {
  return Object.assign(new Error(`This server does not host this topic-partition (${type})`), {
    name: 'KafkaJSProtocolError',
    type,
  })
}

export function connectionError(host = '127.0.0.1', port = 9092): Error {
  return Object.assign(new Error(`Connection error: connect ECONNREFUSED ${host}:${port}`), {
    name: 'KafkaJSConnectionError',
    host,
    port,
  })
}
