import type { Kafka } from 'kafkajs'
import { type IncomingMessage, type Sender, TopicProcessor } from '../../src/index.js'
import type { Work } from '../workloads.js'

export async function runTopicProcessor(options: {
  kafka: Kafka
  name: string
  input: string
  output: string
  partitions: number[]
  batchSize: number
  work: Work
  done: () => Promise<boolean>
  guarantee?: 'at-least-once' | 'exactly-once'
}): Promise<void> {
  const { kafka, name, input, output, partitions, batchSize, work, done } = options
  const processor = new TopicProcessor(
    {
      topicProcessorName: name,
      kafka,
      inputTopics: [input],
      inputPartitions: partitions,
      batchSize,
      batchWaitMs: 1000,
      guarantee: options.guarantee ?? 'at-least-once',
      ...(process.env.BENCH_TP_OPTIONS ? JSON.parse(process.env.BENCH_TP_OPTIONS) : {}),
    },
    () => ({
      async process(messages: readonly IncomingMessage[], sender: Sender) {
        for (const o of await work(messages)) sender.send({ topic: output, key: o.key, value: o.value })
      },
    }),
  )
  const run = processor.runLoop()
  while (!(await done())) await new Promise((r) => setTimeout(r, 200))
  await processor.close()
  await run
}
