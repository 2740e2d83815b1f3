import type { Kafka } from 'kafkajs'
import {
  type IncomingMessage,
  type MessageProcessor,
  TopicProcessor,
  type TopicProcessorOptions,
} from '../../src/index.js'

/** Records every batch handed to process(). */
export class RecordingProcessor implements MessageProcessor {
  readonly batches: IncomingMessage[][] = []
  constructor(private readonly onBatch?: MessageProcessor['process']) {}
  async process(...args: Parameters<MessageProcessor['process']>) {
    this.batches.push([...args[0]])
    await this.onBatch?.(...args)
  }
  get messages(): IncomingMessage[] {
    return this.batches.flat()
  }
}

export type TestProcessorOptions = Omit<TopicProcessorOptions, 'kafka'> & { kafka: Kafka }

/** Starts runLoop() in the background; returns the processor and its run promise (errors kept, not thrown). */
export function start(options: TestProcessorOptions, processor: MessageProcessor | Map<number, MessageProcessor>) {
  const tp = new TopicProcessor(
    { batchWaitMs: 200, fetchMaxWaitMs: 50, ...options },
    processor instanceof Map ? processor : () => processor,
  )
  const run = tp.runLoop().then(
    () => undefined,
    (error: unknown) => error,
  )
  return { tp, run }
}

/** An incoming message with no key, value or headers: for tests of buffers and batches. */
export const incoming = (topic: string, partition: number, offset: number): IncomingMessage => ({
  topic,
  partition,
  offset: String(offset),
  timestamp: '0',
  key: null,
  value: null,
  headers: {},
})
