/**
 * npm run bench:compare -- --baseline <dir> [--messages N] [--rounds R]
 *
 * This build's TopicProcessor against another build of kasper-ts (a checkout of an earlier commit
 * with `npm run build` done, e.g. `git worktree add /tmp/base <commit>`), in one run on the local
 * broker: N messages of 100 bytes on 12 partitions are loaded once with Kafka's producer perf tool,
 * then baseline and current alternate R times, each pass-through (one output per input, acks = -1)
 * from the start of the input to its last committed offset. Prints each round, the medians and the
 * ratio current / baseline.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import * as current from '../src/index.js'
import { committedSum, createBenchTopic, loadArgs, round } from './measure.js'

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    messages: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '10000' },
  },
})
if (!args.baseline) {
  process.stderr.write('usage: npm run bench:compare -- --baseline <dir of a built kasper-ts checkout>\n')
  process.exit(2)
}
const scripts = (name: string) => pathToFileURL(resolve('scripts/lib', name)).href
const { startBroker, toolOutput } = (await import(scripts('broker.mjs'))) as typeof import('../scripts/lib/broker.mjs')
const baseline = (await import(pathToFileURL(resolve(args.baseline, 'dist/src/index.js')).href)) as typeof current

const N = Number(args.messages)
const ROUNDS = Number(args.rounds)
const BATCH = Number(args['batch-size'])
const PARTITIONS = 12
const partitions = Array.from({ length: PARTITIONS }, (_, i) => i)
const runId = Date.now().toString(36)
const say = (line: string) => process.stdout.write(`${line}\n`)

const createTopic = (kafka: Kafka, topic: string) => createBenchTopic(kafka, topic, PARTITIONS)

async function passThrough(lib: typeof current, kafka: Kafka, input: string, tag: string): Promise<number> {
  const name = `compare-${runId}-${tag}`
  const output = `${name}-out`
  await createTopic(kafka, output)
  const processor = new lib.TopicProcessor(
    {
      topicProcessorName: name,
      kafka,
      inputTopics: [input],
      inputPartitions: partitions,
      batchSize: BATCH,
      batchWaitMs: 1000,
    },
    () => ({
      process(messages, sender) {
        for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
      },
    }),
  )
  const started = performance.now()
  const run = processor.runLoop()
  while ((await committedSum(kafka, `kasper-topic-processor-${name}`, input)) < N) {
    await new Promise((r) => setTimeout(r, 100))
  }
  const seconds = (performance.now() - started) / 1000
  await processor.close()
  await run
  return Math.round(N / seconds)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

const bootstrap = process.env.KAFKA_BROKERS ?? (await startBroker({ log: say })).bootstrap
const kafka = new Kafka({ brokers: bootstrap.split(','), clientId: 'bench-compare', logLevel: logLevel.NOTHING })
const input = `compare-in-${runId}`
await createTopic(kafka, input)
const load = toolOutput('kafka-producer-perf-test', loadArgs(input, N, bootstrap))
if (load.status !== 0) throw new Error(`kafka-producer-perf-test failed: ${load.stderr}`)
say(`compare: ${N} messages × 100 B, ${PARTITIONS} partitions, batchSize ${BATCH}, node ${process.version}`)
say(`  baseline: ${resolve(args.baseline)}`)
const figures = { baseline: [] as number[], current: [] as number[] }
for (let r = 1; r <= ROUNDS; r++) {
  const b = await passThrough(baseline, kafka, input, `base-${r}`)
  const c = await passThrough(current, kafka, input, `current-${r}`)
  figures.baseline.push(b)
  figures.current.push(c)
  say(`  round ${r}: baseline ${b} msg/s, current ${c} msg/s (${round(c / b)}×)`)
}
const [mb, mc] = [median(figures.baseline), median(figures.current)]
say(`  medians: baseline ${mb} msg/s, current ${mc} msg/s: current / baseline = ${round(mc / mb)}`)
