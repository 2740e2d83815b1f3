/**
 * End-to-end latency at a fixed input rate: a driver process (latency-driver.ts) stamps each
 * value with its send time, a pass-through TopicProcessor here copies it, and the driver's plain
 * kafkajs consumer of the output measures now − stamp. Also samples this process's RSS (soak).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Kafka } from 'kafkajs'
import { type IncomingMessage, type Sender, TopicProcessor } from '../src/index.js'
import { createBenchTopic } from './measure.js'

export interface LatencyOptions {
  kafka: Kafka
  runId: string
  partitions: number[]
  rate: number
  seconds: number
  batchSize: number
  batchWaitMs: number
  rssEveryMs?: number
  /** The processor's guarantee (the driver reads committed data only, so exactly-once output counts once committed). */
  guarantee?: 'at-least-once' | 'exactly-once'
}

export async function measureLatency(options: LatencyOptions) {
  const { kafka, runId, partitions, rate, seconds, batchSize, batchWaitMs } = options
  const input = `bench-lat-in-${runId}`
  const output = `bench-lat-out-${runId}`
  for (const topic of [input, output]) await createBenchTopic(kafka, topic, partitions.length)

  const processor = new TopicProcessor(
    {
      topicProcessorName: `bench-lat-${runId}`,
      kafka,
      inputTopics: [input],
      inputPartitions: partitions,
      batchSize,
      batchWaitMs,
      guarantee: options.guarantee ?? 'at-least-once',
    },
    () => ({
      process(messages: readonly IncomingMessage[], sender: Sender) {
        for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
      },
    }),
  )
  const run = processor.runLoop()
  await processor.ready()

  const rss: number[] = []
  const rssTimer = options.rssEveryMs
    ? setInterval(() => rss.push(Math.round(process.memoryUsage.rss() / 1024 / 1024)), options.rssEveryMs)
    : undefined
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'
  const driver = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./latency-driver.js', import.meta.url)),
      brokers,
      input,
      output,
      String(rate),
      String(seconds),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let line = ''
  driver.stdout.on('data', (d) => (line += d))
  await new Promise((r) => driver.once('exit', r))
  if (rssTimer) clearInterval(rssTimer)
  await processor.close()
  await run
  const result = JSON.parse(line.trim()) as {
    rate: number
    offeredPerSecond: number
    sent: number
    samples: number
    p50Ms: number
    p99Ms: number
    maxMs: number
  }
  return { ...result, batchSize, batchWaitMs, guarantee: options.guarantee ?? 'at-least-once', rssMiB: rss }
}
