/**
 * The benchmark's three kinds of work, each as a plain function of a batch so the raw-kafkajs
 * baseline and kasper-ts run exactly the same code:
 *   pass-through  one output per input
 *   redis         one getAll and one putAll per batch (latest value per key), one output per input
 *   cpu           a fixed amount of CPU per message (SHA-256 rounds), one output per input
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

export type WorkloadName = 'pass-through' | 'redis' | 'cpu'

export interface Record {
  key: Buffer | null
  value: Buffer | null
}

export interface Output {
  key: Buffer | null
  value: Buffer | null
}

export const CPU_ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 20)

export function burnCpu(value: Buffer | null): Buffer {
  let digest = value ?? Buffer.alloc(0)
  for (let i = 0; i < CPU_ROUNDS; i++) digest = createHash('sha256').update(digest).digest()
  return digest
}

export type Work = (records: readonly Record[]) => Promise<Output[]>

export function workload(name: WorkloadName, redis?: Redis, prefix = 'bench'): Work {
  switch (name) {
    case 'pass-through':
      return async (records) => records.map((r) => ({ key: r.key, value: r.value }))
    case 'cpu':
      return async (records) => records.map((r) => ({ key: r.key, value: burnCpu(r.value) }))
    case 'redis': {
      if (!redis) throw new Error('the redis workload needs a Redis client')
      return async (records) => {
        // 1000 distinct keys: a realistic working set that stays hot in Redis
        const keyOf = (r: Record, i: number) => `${prefix}/${r.key ? r.key.toString() : String(i % 1000)}`
        const keys = [...new Set(records.map(keyOf))]
        const pipeline = redis.pipeline()
        for (const k of keys) pipeline.getBuffer(k)
        await pipeline.exec()
        const latest = new Map<string, Buffer>()
        records.forEach((r, i) => {
          latest.set(keyOf(r, i), r.value ?? Buffer.alloc(0))
        })
        const multi = redis.multi()
        for (const [k, v] of latest) multi.set(k, v)
        await multi.exec()
        return records.map((r) => ({ key: r.key, value: r.value }))
      }
    }
  }
}
