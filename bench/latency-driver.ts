/**
 * The load side of the latency benchmark, in its own process so it does not compete with the
 * processor for the event loop: produces `rate` msg/s stamped with their send time for `seconds`,
 * reads the output, and prints one JSON line with every latency sample summarized.
 *   node dist/bench/latency-driver.js <brokers> <input> <output> <rate> <seconds>
 *
 * It produces and reads through kasper-ts's own protocol layer (OutputProducer's record-batch
 * encoder, PartitionReader's fetch decoder), not kafkajs's producer and consumer: on 2 shared cores
 * those could not offer half of the processor's load and read it back without their own lag
 * becoming the figure (p99 4 s at 51,000 msg/s, 2026-11-29).
 */
import { Kafka, logLevel } from 'kafkajs'
import { createCluster } from '../src/kafka/cluster.js'
import { PartitionReader } from '../src/kafka/partition-reader.js'
import { OutputProducer } from '../src/kafka/producer.js'
import { silentLogger } from '../src/logging/logger.js'
import type { OutgoingMessage } from '../src/types.js'
import { percentile, round } from './measure.js'

const [brokers = '127.0.0.1:9092', input = '', output = '', rateText = '1000', secondsText = '10'] =
  process.argv.slice(2)
const rate = Number(rateText)
const seconds = Number(secondsText)
const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-latency', logLevel: logLevel.NOTHING })

const cluster = createCluster(kafka)
await cluster.connect()
await cluster.addMultipleTargetTopics([output])
const outputPartitions = cluster.findTopicPartitionMetadata(output).map((p) => p.partitionId)
const reader = new PartitionReader(
  cluster,
  outputPartitions.map((partition) => ({ topic: output, partition, offset: '0' })),
  { maxWaitMs: 20, maxBytes: 16 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024, unavailableTimeoutMs: 30_000 },
)
const latencies: number[] = []
let reading = true
const readLoop = (async () => {
  while (reading) {
    const fetched = await reader.fetch()
    const now = Date.now()
    for (const { messages } of fetched) {
      for (const m of messages.slice()) latencies.push(now - Number(m.value?.subarray(0, 13).toString()))
    }
  }
})()

const producer = OutputProducer.create(kafka, { unavailableTimeoutMs: 30_000, logger: silentLogger })
await producer.connect()
const tickMs = 20
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000))
const pad = 'x'.repeat(87)
let sent = 0
const started = Date.now()
while (Date.now() - started < seconds * 1000) {
  // scheduled by wall clock, so a slow send does not lower the offered rate
  const due = Math.floor(((Date.now() - started) / 1000) * rate) + perTick
  const stamp = String(Date.now())
  const count = Math.max(0, due - sent)
  const messages: OutgoingMessage[] = new Array(count)
  for (let i = 0; i < count; i++) messages[i] = { topic: input, key: String(sent + i), value: `${stamp}${pad}` }
  await producer.produce(messages)
  sent += count
  await new Promise((r) => setTimeout(r, tickMs))
}
const deadline = Date.now() + 30_000
while (latencies.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
reading = false
await readLoop
await producer.disconnect()
await cluster.disconnect()
const sorted = [...latencies].sort((a, b) => a - b)
process.stdout.write(
  `${JSON.stringify({ rate, offeredPerSecond: Math.round(sent / seconds), sent, samples: latencies.length, p50Ms: round(percentile(sorted, 50), 0), p99Ms: round(percentile(sorted, 99), 0), maxMs: sorted.at(-1) ?? null })}\n`,
)
