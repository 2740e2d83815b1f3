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

  /** Resolves when every message is acknowledged by all in-sync replicas. */
  async produce(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const byTopic = new Map<string, Message[]>()
    for (const m of messages) {
      const list = byTopic.get(m.topic) ?? []
      const out: Message = { key: m.key ?? null, value: m.value }
      if (m.headers !== undefined) out.headers = m.headers
      if (m.partition !== undefined) out.partition = m.partition
      if (m.timestamp !== undefined) out.timestamp = m.timestamp
      list.push(out)
      byTopic.set(m.topic, list)
    }
    await this.#producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic.entries()].map(([topic, list]) => ({ topic, messages: list })),
    })
  }
}
