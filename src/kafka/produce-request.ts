/**
 * A Produce request whose body is encoded by record-batch.ts, sent over a kafkajs broker's
 * connection (kafkajs adds the request header, matches the response and decodes it with its own
 * decoder for the version we send).
 */
import { createRequire } from 'node:module'
import { type KafkaBroker, sendRequest } from './cluster.js'
import { encodeProduceRequest, type ProduceTopicData } from './record-batch.js'

const require = createRequire(import.meta.url)

/** Produce v7: the newest layout kafkajs decodes responses for; Kafka 2.1 and later accept it (4.x: v3 to v12). */
const PRODUCE_VERSION = 7
const PRODUCE_API_KEY = 0
const response = require('kafkajs/src/protocol/requests/produce/v7/response') as {
  decode: (data: Buffer) => Promise<unknown>
  parse: (data: unknown) => Promise<unknown>
}

export interface ProduceResponse {
  topics: { topicName: string; partitions: { partition: number; errorCode: number; baseOffset: string }[] }[]
}

/**
 * Sends one Produce request to `broker` and resolves with the broker's answer. Rejects with
 * kafkajs's error for the first partition that failed (its `type` names the Kafka error), or
 * with the connection's error.
 */
export async function sendProduce(
  broker: KafkaBroker,
  acks: number,
  timeoutMs: number,
  topics: readonly ProduceTopicData[],
  transactionalId?: string,
): Promise<ProduceResponse> {
  const body = encodeProduceRequest(acks, timeoutMs, topics, Date.now(), transactionalId)
  return (await sendRequest(broker, {
    request: {
      apiKey: PRODUCE_API_KEY,
      apiVersion: PRODUCE_VERSION,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      // kafkajs's request framing copies `encoder.buffer` after the header
      encode: async () => ({ buf: body, buffer: body }),
    },
    response,
  })) as ProduceResponse
}
