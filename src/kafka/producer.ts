import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs'
import type { OutgoingMessage } from '../types.js'

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
   * they are (an OutgoingMessage is a kafkajs Message plus its topic), without a copy per message.
   */
  async produce(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const first = (messages[0] as OutgoingMessage).topic
    const single = messages.every((m) => m.topic === first)
    const topicMessages = single
      ? [{ topic: first, messages: messages as unknown as Message[] }]
      : groupByTopic(messages)
    await this.#producer.sendBatch({ acks: -1, topicMessages })
  }
}

function groupByTopic(messages: readonly OutgoingMessage[]) {
  const byTopic = new Map<string, Message[]>()
  for (const m of messages) {
    const list = byTopic.get(m.topic)
    if (list) list.push(m as Message)
    else byTopic.set(m.topic, [m as Message])
  }
  return [...byTopic.entries()].map(([topic, list]) => ({ topic, messages: list }))
}
