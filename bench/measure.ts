import type { Kafka } from 'kafkajs'

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
    peak = Math.max(peak, process.memoryUsage.rss())
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
