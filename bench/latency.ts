/**
 * End-to-end latency at a fixed input rate: a producer stamps each value with its send time, a
 * pass-through TopicProcessor copies it, and a plain kafkajs consumer of the output measures
 * now − stamp. Also samples RSS over the run (the soak mode).
 */
import type { Kafka } from 'kafkajs'
import { type IncomingMessage, type Sender, TopicProcessor } from '../src/index.js'
import { percentile, round } from './measure.js'

export interface LatencyOptions {
  kafka: Kafka
  runId: string
  partitions: number[]
  rate: number
  seconds: number
  batchSize: number
  batchWaitMs: number
  rssEveryMs?: number
}

export async function measureLatency(options: LatencyOptions) {
  const { kafka, runId, partitions, rate, seconds, batchSize, batchWaitMs } = options
  const input = `bench-lat-in-${runId}`
  const output = `bench-lat-out-${runId}`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({
    waitForLeaders: true,
    topics: [input, output].map((topic) => ({ topic, numPartitions: partitions.length, replicationFactor: 1 })),
  })
  await admin.disconnect()

  const processor = new TopicProcessor(
    {
      topicProcessorName: `bench-lat-${runId}`,
      kafka,
      inputTopics: [input],
      inputPartitions: partitions,
      batchSize,
      batchWaitMs,
    },
    () => ({
      process(messages: readonly IncomingMessage[], sender: Sender) {
        for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
      },
    }),
  )
  const run = processor.runLoop()
  await processor.ready()

  const latencies: number[] = []
  const consumer = kafka.consumer({ groupId: `bench-lat-reader-${runId}`, maxWaitTimeInMs: 50 })
  await consumer.connect()
  await consumer.subscribe({ topic: output, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now()
      for (const m of batch.messages) latencies.push(now - Number(m.value?.toString().slice(0, 13)))
    },
  })

  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const rss: number[] = []
  const rssTimer = options.rssEveryMs
    ? setInterval(() => rss.push(Math.round(process.memoryUsage.rss() / 1024 / 1024)), options.rssEveryMs)
    : undefined
  const tickMs = 50
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000))
  const pad = 'x'.repeat(87)
  let sent = 0
  const started = Date.now()
  while (Date.now() - started < seconds * 1000) {
    const tickStart = Date.now()
    const stamp = String(Date.now())
    await producer.send({
      topic: input,
      acks: -1,
      messages: Array.from({ length: perTick }, (_, i) => ({ key: String(sent + i), value: `${stamp}${pad}` })),
    })
    sent += perTick
    const left = tickMs - (Date.now() - tickStart)
    if (left > 0) await new Promise((r) => setTimeout(r, left))
  }
  const deadline = Date.now() + 30_000
  while (latencies.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  if (rssTimer) clearInterval(rssTimer)
  await producer.disconnect()
  await consumer.disconnect()
  await processor.close()
  await run
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    rate,
    sent,
    samples: latencies.length,
    p50Ms: round(percentile(sorted, 50), 0),
    p99Ms: round(percentile(sorted, 99), 0),
    maxMs: sorted.at(-1) ?? null,
    rssMiB: rss,
  }
}
