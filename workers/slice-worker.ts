/**
 * What a worker thread does: load the job, run one TopicProcessor over the slice's partitions,
 * report metrics, stop gracefully on request, report failure with its cause.
 */
import type { MessagePort } from 'node:worker_threads'
import type { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import client from 'prom-client'
import { serializeError } from '../src/errors.js'
import { kafkajsLogCreator } from '../src/kafka/kafkajs-logger.js'
import { jsonLogger } from '../src/logging/json-logger.js'
import { PrometheusMetrics } from '../src/metrics/prometheus.js'
import { TopicProcessor } from '../src/processor/topic-processor.js'
import { createRedisClient } from '../src/stores/redis-store.js'
import { setDefaultStoreMetrics } from '../src/stores/store-metrics.js'
import { type JobContext, loadJob } from './job.js'
import type { FromWorker, ToWorker, WorkerData } from './protocol.js'

export async function runSlice(data: WorkerData, port: MessagePort): Promise<number> {
  const send = (message: FromWorker) => port.postMessage(message)
  const { slice } = data
  // the slice's partitions: changed in place by a reassignment, so every JobContext sees the current ones
  const partitions = [...data.partitions]
  const closers: (() => Promise<void> | void)[] = []
  let metricsTimer: NodeJS.Timeout | undefined
  let metrics: PrometheusMetrics | undefined
  let processor: TopicProcessor | undefined
  const pushMetrics = async () => {
    if (!metrics) return
    const snapshot = await metrics.registry.getMetricsAsJSON()
    send({ type: 'metrics', slice, metrics: snapshot, ...(processor ? { progress: processor.progress() } : {}) })
  }
  try {
    const job = await loadJob(data.jobPath)
    const logger = jsonLogger({ level: job.logLevel }).child({ slice })
    metrics = new PrometheusMetrics()
    // this thread's Node metrics (heap, event loop lag, GC), served by the supervisor with a slice label
    client.collectDefaultMetrics({ register: metrics.registry, prefix: 'kasper_worker_' })
    const kafka = new Kafka({ ...job.kafka, logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(logger) })
    let redis: Promise<Redis> | undefined
    const context = (partition: number): JobContext => ({
      partition,
      partitions,
      slice,
      logger,
      metrics: metrics as PrometheusMetrics,
      kafka,
      redis: () => {
        redis ??= createRedisClient(
          job.redis?.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          {},
          logger,
        ).then((client) => {
          // stores built on this client report to the slice's metrics even without `metrics: ctx.metrics`
          if (metrics) setDefaultStoreMetrics(client, metrics)
          closers.push(() => void client.disconnect())
          return client
        })
        return redis
      },
      onClose: (fn) => void closers.push(fn),
    })
    const { createProcessor, redis: _redis, logLevel: _level, kafka: _kafka, assignment: _mode, ...settings } = job
    const running = new TopicProcessor(
      {
        ...settings,
        inputPartitions: partitions,
        kafka,
        logger,
        metrics,
        ...(data.generation ? { groupGeneration: data.generation } : {}),
      },
      (partition) => createProcessor(context(partition)),
    )
    processor = running
    port.on('message', (message: ToWorker) => {
      if (message.type === 'stop') void running.close()
      else if (message.type === 'assign') {
        running.reassign(message.generation, message.partitions).then(
          (result) => {
            partitions.splice(0, partitions.length, ...message.partitions)
            send({ type: 'assigned', slice, id: message.id, ...result })
          },
          () => {}, // the processor stopped first, or failed (runLoop() reports it)
        )
      }
    })
    metricsTimer = setInterval(() => void pushMetrics(), data.metricsIntervalMs)
    const run = running.runLoop()
    void running.ready().then(
      () => send({ type: 'started', slice, partitions }),
      () => {}, // a failed start is reported by runLoop()
    )
    try {
      await run
    } catch (error) {
      // TopicProcessor logged it, with its stack; the supervisor's line need not repeat the stack
      send({ type: 'failed', slice, error: serializeError(error), logged: true })
      return 1
    }
    return 0
  } catch (error) {
    send({ type: 'failed', slice, error: serializeError(error) })
    return 1
  } finally {
    clearInterval(metricsTimer)
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {})
    await pushMetrics().catch(() => {})
  }
}
