import { getHeapSpaceStatistics } from 'node:v8'
import type { Kafka } from 'kafkajs'
import { createTopicsWithLeaders } from '../src/kafka/create-topics.js'

/** Sum of a group's committed offsets on a topic (messages processed, offsets starting at 0). */
export async function committedSum(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return (result?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
  } finally {
    await admin.disconnect()
  }
}

/** Samples this process's RSS (worker threads included) until stopped; returns the peak in MiB. */
export function rssSampler(intervalMs = 100) {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss()
    if (rss > peak && process.env.BENCH_MEM_DEBUG) {
      const m = process.memoryUsage()
      const mib = (n: number) => Math.round(n / 1048576)
      process.stderr.write(
        `rss ${mib(m.rss)} heapUsed ${mib(m.heapUsed)} heapTotal ${mib(m.heapTotal)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)} spaces ${getHeapSpaceStatistics()
          .map((s) => `${s.space_name.replace('_space', '')}=${mib(s.space_size)}/${mib(s.space_used_size)}`)
          .join(' ')}\n`,
      )
    }
    peak = Math.max(peak, rss)
  }, intervalMs)
  return {
    stop(): number {
      clearInterval(timer)
      return Math.round(peak / 1024 / 1024)
    },
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

/** Creates a benchmark topic (replication factor 1, the local broker) and waits for its leaders. */
export async function createBenchTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await createTopicsWithLeaders(admin, [{ topic, numPartitions: partitions, replicationFactor: 1 }])
  } finally {
    await admin.disconnect()
  }
}

/** Arguments of Kafka's kafka-producer-perf-test loading `n` records of 100 bytes with acks = -1. */
export const loadArgs = (topic: string, n: number, bootstrap: string): string[] => [
  '--topic',
  topic,
  '--num-records',
  String(n),
  '--record-size',
  '100',
  '--throughput',
  '-1',
  '--producer-props',
  `bootstrap.servers=${bootstrap}`,
  'acks=-1',
  'linger.ms=5',
  'batch.size=262144',
]
