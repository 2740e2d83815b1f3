/**
 * The hand-written baseline: a kafkajs consumer group, eachBatch, the same work, produce with
 * acks = -1, then resolve and commit the batch's offsets. What a careful user would write by hand.
 */
import type { Kafka } from 'kafkajs'
import type { Work } from '../workloads.js'

export async function runRawKafkajs(options: {
  kafka: Kafka
  groupId: string
  input: string
  output: string
  work: Work
  done: () => Promise<boolean>
}): Promise<void> {
  const { kafka, groupId, input, output, work, done } = options
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    maxWaitTimeInMs: 250,
  })
  await Promise.all([producer.connect(), consumer.connect()])
  await consumer.subscribe({ topic: input, fromBeginning: true })
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (batch.messages.length === 0) return
      const out = await work(batch.messages)
      await producer.send({ topic: output, acks: -1, messages: out })
      resolveOffset(batch.lastOffset())
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
      ])
      await heartbeat()
    },
  })
  while (!(await done())) await new Promise((r) => setTimeout(r, 200))
  await consumer.disconnect()
  await producer.disconnect()
}
