import { ErrorCodes, OutputError } from '../errors.js'
import type { OutgoingMessage, Sender } from '../types.js'

export type ProduceFn = (messages: readonly OutgoingMessage[]) => Promise<void>

export interface BatchSenderOptions {
  /** Checks a message against what is known of its topic (throws an OutputError); no I/O. */
  check?: (message: OutgoingMessage) => void
  /** Told of a send() after the batch ended (the error send() throws), so the processor can stop. */
  onLateSend?: (error: OutputError) => void
  /**
   * flush() resolves without producing; everything is produced when the batch ends (an attempt of
   * the dead-letter policy under exactly-once, whose output may yet be thrown away).
   */
  deferFlush?: boolean
}

const isPayload = (v: unknown) => v === null || typeof v === 'string' || Buffer.isBuffer(v)

/**
 * Collects a batch's output. `send` queues (no I/O); `flush` produces what is queued and waits for
 * acks. The TopicProcessor seals the sender when process() settles, flushes what remains, then
 * commits. A failed flush keeps the messages queued, so nothing is dropped; a send() after the seal
 * throws KASPER_SEND_AFTER_BATCH (its input may already be committed, so it must not pass quietly).
 */
export class BatchSender implements Sender {
  #queued: OutgoingMessage[] = []
  #produced = 0
  #sealed = false

  constructor(
    private readonly produceFn: ProduceFn,
    private readonly options: BatchSenderOptions = {},
  ) {}

  send(message: OutgoingMessage): void {
    if (this.#sealed) {
      const error = new OutputError(
        ErrorCodes.SEND_AFTER_BATCH,
        `sender.send() after process() returned (to topic "${message?.topic}"): the batch is over and this ` +
          'message would be lost; await every send path inside process()',
        message?.topic,
      )
      this.options.onLateSend?.(error)
      throw error
    }
    validate(message)
    this.options.check?.(message)
    this.#queued.push(message)
  }

  /** Ends the batch for send(): later calls throw. flush() still produces what was queued. */
  seal(): void {
    this.#sealed = true
  }

  get pending(): number {
    return this.#queued.length
  }

  /** Messages produced (acked) through this sender so far. */
  get produced(): number {
    return this.#produced
  }

  /** Removes and returns what is queued (the dead-letter policy adopts a successful attempt's output). */
  take(): OutgoingMessage[] {
    const queued = this.#queued
    this.#queued = []
    return queued
  }

  async flush(): Promise<void> {
    if (this.#queued.length === 0 || this.options.deferFlush) return
    const count = this.#queued.length
    await this.produceFn(this.#queued.slice(0, count))
    this.#queued.splice(0, count)
    this.#produced += count
  }
}

function validate(message: OutgoingMessage): void {
  const invalid = (what: string) =>
    new OutputError(ErrorCodes.OUTPUT_INVALID, `sender.send(message): ${what}`, message?.topic, message?.partition)
  if (typeof message !== 'object' || message === null) throw invalid('message must be an object')
  if (typeof message.topic !== 'string' || message.topic.length === 0) {
    throw invalid('message.topic must be a non-empty string')
  }
  if (message.partition !== undefined && !(Number.isInteger(message.partition) && message.partition >= 0)) {
    throw invalid(`message.partition must be a non-negative integer, got ${String(message.partition)}`)
  }
  if (!isPayload(message.value)) {
    throw invalid(`message.value must be a string, a Buffer or null, got ${typeName(message.value)}`)
  }
  if (message.key !== undefined && !isPayload(message.key)) {
    throw invalid(`message.key must be a string, a Buffer or null, got ${typeName(message.key)}`)
  }
  if (
    message.timestamp !== undefined &&
    !(typeof message.timestamp === 'string' && /^\d{1,15}$/.test(message.timestamp))
  ) {
    throw invalid(
      `message.timestamp must be milliseconds since the epoch as a string of digits, got ${typeName(message.timestamp)}`,
    )
  }
  if (message.headers !== undefined) {
    if (typeof message.headers !== 'object' || message.headers === null)
      throw invalid('message.headers must be an object')
    for (const [name, value] of Object.entries(message.headers)) {
      if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
        throw invalid(`header "${name}" must be a string or a Buffer, got ${typeName(value)}`)
      }
    }
  }
}

function typeName(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'Object'})` : `a ${typeof value}`
}
