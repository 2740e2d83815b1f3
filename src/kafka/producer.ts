import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs'
import type { OutgoingMessage } from '../types.js'
import { groupByTopic } from './topic-partitions.js'

/** Produces output with acks from all in-sync replicas (acks = -1). Never auto-creates topics. */
export class OutputProducer {
  readonly #producer: Producer

  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
  }

  connect(): Promise<void> {
    return this.#producer.connect()
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect()
  }

  /**
   * Resolves when every message is acknowledged by all in-sync replicas. Messages go to kafkajs as
   * they are (an OutgoingMessage is a kafkajs Message plus its topic), without a copy of any message.
   */
  async produce(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const topicMessages = groupByTopic(messages).map(([topic, list]) => ({ topic, messages: list as Message[] }))
    await this.#producer.sendBatch({ acks: -1, topicMessages })
  }
}
