import type { OutgoingMessage, Sender } from '../types.js'

export type ProduceFn = (messages: readonly OutgoingMessage[]) => Promise<void>

/**
 * Collects a batch's output. `send` queues (no I/O); `flush` produces what is queued and waits for
 * acks. The TopicProcessor flushes what remains after process() returns, then commits. A failed
 * flush keeps the messages queued, so nothing is dropped.
 */
export class BatchSender implements Sender {
  #queued: OutgoingMessage[] = []
  #produced = 0

  constructor(private readonly produceFn: ProduceFn) {}

  send(message: OutgoingMessage): void {
    if (typeof message?.topic !== 'string' || message.topic.length === 0) {
      throw new TypeError('sender.send(message): message.topic must be a non-empty string')
    }
    if (message.partition !== undefined && !(Number.isInteger(message.partition) && message.partition >= 0)) {
      throw new TypeError(
        `sender.send(message): message.partition must be a non-negative integer, got ${message.partition}`,
      )
    }
    this.#queued.push(message)
  }

  get pending(): number {
    return this.#queued.length
  }

  /** Messages produced (acked) through this sender so far. */
  get produced(): number {
    return this.#produced
  }

  async flush(): Promise<void> {
    if (this.#queued.length === 0) return
    const count = this.#queued.length
    await this.produceFn(this.#queued.slice(0, count))
    this.#queued.splice(0, count)
    this.#produced += count
  }
}
