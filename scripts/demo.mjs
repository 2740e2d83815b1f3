#!/usr/bin/env node
// npm run demo: twitter-reach end to end on a local broker and Redis.
//   1. bring up Kafka (unless KAFKA_BROKERS) and Redis
//   2. (re)create the topics, clear the demo's state, produce a generated sample
//   3. run the job under the supervisor with several workers, showing progress
//   4. print a summary (in/out, throughput per slice, sample results, metrics) and exit 0
import { resolve } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { projectRoot, startBroker } from './lib/broker.mjs'
import { startRedis } from './lib/redis.mjs'

const { generateSample } = await import('../dist/examples/twitter-reach/generator.js')
const { TOPICS } = await import('../dist/examples/twitter-reach/reach-processor.js')
const { PARTITIONS } = await import('../dist/examples/twitter-reach/job.js')
const { Supervisor } = await import('../dist/supervisor/index.js')
const { silentLogger, createRedisClient } = await import('../dist/src/index.js')

const WORKERS = Number(process.env.DEMO_WORKERS ?? 3)
const USERS = Number(process.env.DEMO_USERS ?? 5_000)
const FOLLOWS = Number(process.env.DEMO_FOLLOWS ?? 60_000)
const TWEETS = Number(process.env.DEMO_TWEETS ?? 40_000)
const say = (line) => process.stdout.write(`${line}\n`)
// The job's Redis keys: one prefix per broker port, so two checkouts on one Redis never touch each
// other's keys; the demo clears that prefix first and removes what it wrote at the end.
const KEY_PREFIX = process.env.DEMO_KEY_PREFIX ?? `twitter-reach/${process.env.KAFKA_PORT ?? 9092}/followers`
process.env.TWITTER_REACH_KEY_PREFIX = KEY_PREFIX

let startedBroker = false

async function infrastructure() {
  const log = (line) => say(line)
  if (!process.env.KAFKA_BROKERS) {
    const { bootstrap, started } = await startBroker({ log })
    startedBroker = started
    process.env.KAFKA_BROKERS = bootstrap
  }
  const { url } = await startRedis({ log })
  process.env.REDIS_URL = url
  say(`Kafka ${process.env.KAFKA_BROKERS}, Redis ${url}`)
}

async function resetTopics(kafka) {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const ours = Object.values(TOPICS).filter((t) => existing.has(t))
    if (ours.length) {
      await admin.deleteTopics({ topics: ours })
      for (let i = 0; i < 50 && (await admin.listTopics()).some((t) => ours.includes(t)); i++) {
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    await admin.deleteGroups(['kasper-topic-processor-twitter-reach']).catch(() => {})
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: Object.values(TOPICS).map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
        })
        break
      } catch (error) {
        if (attempt > 20) throw error
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  } finally {
    await admin.disconnect()
  }
}

/** Deletes the demo's keys (those under KEY_PREFIX) and returns how many there were. */
async function clearState() {
  const redis = await createRedisClient(process.env.REDIS_URL)
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}/*`, 'COUNT', 1000)
    if (keys.length) deleted += await redis.del(...keys)
    cursor = next
  } while (cursor !== '0')
  redis.disconnect()
  return deleted
}

async function produceSample(kafka, sample) {
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const send = async (topic, messages) => {
    for (let i = 0; i < messages.length; i += 5000)
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 5000) })
  }
  await send(TOPICS.followers, sample.followers)
  await send(TOPICS.tweets, sample.tweets)
  await producer.disconnect()
}

async function committedTotal(admin, topic) {
  const [result] = await admin.fetchOffsets({ groupId: 'kasper-topic-processor-twitter-reach', topics: [topic] })
  return (result?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
}

function perSlice(metricsText, name) {
  const totals = new Map()
  const pattern = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm')
  for (const match of metricsText.matchAll(pattern)) {
    const slice = /slice="(\d+)"/.exec(match[1])?.[1]
    if (slice !== undefined) totals.set(slice, (totals.get(slice) ?? 0) + Number(match[2]))
  }
  return totals
}

async function main() {
  await infrastructure()
  const kafka = new Kafka({
    brokers: process.env.KAFKA_BROKERS.split(','),
    clientId: 'twitter-reach-demo',
    logLevel: logLevel.NOTHING,
  })
  await resetTopics(kafka)
  await clearState()
  const sample = generateSample({ users: USERS, follows: FOLLOWS, tweets: TWEETS })
  say(
    `producing ${sample.followers.length} follow events and ${sample.tweets.length} tweets of ${USERS} users to ${PARTITIONS} partitions`,
  )
  await produceSample(kafka, sample)
  const totalIn = sample.followers.length + sample.tweets.length

  const supervisor = new Supervisor({
    jobPath: resolve(projectRoot, 'dist/examples/twitter-reach/job.js'),
    workers: WORKERS,
    metricsPort: Number(process.env.DEMO_METRICS_PORT ?? 0),
    logger: silentLogger,
  })
  supervisor.on('slice-started', ({ slice, partitions }) =>
    say(`  slice ${slice} started on partitions ${partitions.join(',')}`),
  )
  supervisor.on('slice-failed', ({ slice, error }) => say(`  slice ${slice} failed: ${error.message}`))
  const started = Date.now()
  await supervisor.start()
  say(`running twitter-reach with ${WORKERS} workers; metrics at ${supervisor.metricsUrl}/metrics`)

  const admin = kafka.admin()
  await admin.connect()
  let done = 0
  let lastMetrics = ''
  const deadline = started + 180_000
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000))
    done = (await committedTotal(admin, TOPICS.followers)) + (await committedTotal(admin, TOPICS.tweets))
    lastMetrics = await (await fetch(`${supervisor.metricsUrl}/metrics`)).text()
    const seconds = (Date.now() - started) / 1000
    say(
      `  progress: ${done}/${totalIn} input messages committed (${Math.round((100 * done) / totalIn)}%), ${Math.round(done / seconds)} msg/s`,
    )
    if (done >= totalIn) break
  }
  const elapsed = (Date.now() - started) / 1000
  await new Promise((r) => setTimeout(r, 1200))
  lastMetrics = await (await fetch(`${supervisor.metricsUrl}/metrics`)).text()
  const metricsUrl = supervisor.metricsUrl
  const result = await supervisor.stop()
  await admin.disconnect()

  const incoming = perSlice(lastMetrics, 'kasper_incoming_messages_total')
  const outgoing = perSlice(lastMetrics, 'kasper_outgoing_messages_total')
  const totalOut = [...outgoing.values()].reduce((a, b) => a + b, 0)
  say('')
  say('== twitter-reach demo summary')
  say(`messages in:  ${done} of ${totalIn} (follows ${sample.followers.length}, tweets ${sample.tweets.length})`)
  say(`messages out: ${totalOut} reach results on "${TOPICS.reach}"`)
  say(`elapsed: ${elapsed.toFixed(1)} s, ${Math.round(done / elapsed)} msg/s overall`)
  for (const [slice, count] of [...incoming].sort()) {
    say(`  slice ${slice}: ${count} in, ${outgoing.get(slice) ?? 0} out, ${Math.round(count / elapsed)} msg/s`)
  }
  const consumer = kafka.consumer({ groupId: `twitter-reach-demo-reader-${Date.now()}` })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPICS.reach, fromBeginning: true })
  const samples = []
  await new Promise((resolveSamples) => {
    const timer = setTimeout(resolveSamples, 10_000)
    consumer.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(message.value.toString())
        if (samples.length < 5 && value.reach > 0) samples.push(value)
        if (samples.length >= 5) {
          clearTimeout(timer)
          resolveSamples()
        }
      },
    })
  })
  await consumer.disconnect()
  say('sample results:')
  for (const s of samples) say(`  ${s.tweet} by ${s.user}: reach ${s.reach}`)
  say(
    `metrics: served at ${metricsUrl}/metrics while the job ran (kasper run serves them on 127.0.0.1:9464 by default); see docs/metrics.md`,
  )
  say(`supervisor: ${result.reason}, exit code ${result.exitCode}`)
  say(`removed the demo's ${await clearState()} Redis keys under ${KEY_PREFIX}/`)
  if (startedBroker)
    say(
      'the local broker keeps running for you to explore (npm run -s kafka:tool -- kafka-topics --list); npm run kafka:down stops it',
    )
  if (done < totalIn || result.exitCode !== 0) {
    say('demo FAILED: not every input was processed')
    process.exitCode = 1
  }
}

await main()
