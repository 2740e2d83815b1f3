/** The benchmark's job for the supervisor modes: the same workloads, configured by BENCH_* variables. */
import { defineJob, range } from '../../workers/job.js'
import { type WorkloadName, workload } from '../workloads.js'

const env = process.env
const name = (env.BENCH_WORKLOAD ?? 'cpu') as WorkloadName

export default defineJob({
  topicProcessorName: env.BENCH_NAME ?? 'bench',
  kafka: { brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), clientId: 'bench' },
  inputTopics: [env.BENCH_INPUT ?? 'bench-in'],
  inputPartitions: range(0, Number(env.BENCH_PARTITIONS ?? 12)),
  batchSize: Number(env.BENCH_BATCH_SIZE ?? 10000),
  batchWaitMs: 1000,
  logLevel: 'warn',
  async createProcessor(ctx) {
    const work = workload(name, name === 'redis' ? await ctx.redis() : undefined, `bench/${ctx.slice}`)
    const output = env.BENCH_OUTPUT ?? 'bench-out'
    return {
      async process(messages, sender) {
        for (const o of await work(messages)) sender.send({ topic: output, key: o.key, value: o.value })
      },
    }
  },
})
