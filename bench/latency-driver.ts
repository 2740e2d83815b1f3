/**
 * The load side of the latency benchmark, in its own process so it does not compete with the
 * processor for the event loop: produces `rate` msg/s stamped with their send time for `seconds`,
 * reads the output, and prints one JSON line with every latency sample summarized.
 *   node dist/bench/latency-driver.js <brokers> <input> <output> <rate> <seconds> [rssPid]
 */
import { Kafka, logLevel } from 'kafkajs'
import { percentile, round } from './measure.js'

const [brokers = '127.0.0.1:9092', input = '', output = '', rateText = '1000', secondsText = '10'] =
  process.argv.slice(2)
const rate = Number(rateText)
const seconds = Number(secondsText)
const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-latency', logLevel: logLevel.NOTHING })

const latencies: number[] = []
const consumer = kafka.consumer({ groupId: `bench-lat-reader-${output}`, maxWaitTimeInMs: 50 })
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
const tickMs = 20
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000))
const pad = 'x'.repeat(87)
let sent = 0
const started = Date.now()
while (Date.now() - started < seconds * 1000) {
  // schedule by wall clock so a slow send does not lower the offered rate
  const due = Math.floor(((Date.now() - started) / 1000) * rate) + perTick
  const stamp = String(Date.now())
  const batch = Math.max(0, due - sent)
  // at most 5,000 per request: kafkajs puts a partition's messages in one record batch, and a
  // catch-up after a slow send must stay under the broker's 1 MB limit
  for (let left = batch; left > 0; ) {
    const n = Math.min(left, 5000)
    await producer.send({
      topic: input,
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: String(sent + i), value: `${stamp}${pad}` })),
    })
    sent += n
    left -= n
  }
  await new Promise((r) => setTimeout(r, tickMs))
}
const deadline = Date.now() + 30_000
while (latencies.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
await producer.disconnect()
await consumer.disconnect()
const sorted = [...latencies].sort((a, b) => a - b)
process.stdout.write(
  `${JSON.stringify({ rate, offeredPerSecond: Math.round(sent / seconds), sent, samples: latencies.length, p50Ms: round(percentile(sorted, 50), 0), p99Ms: round(percentile(sorted, 99), 0), maxMs: sorted.at(-1) ?? null })}\n`,
)
