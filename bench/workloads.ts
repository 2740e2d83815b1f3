/**
 * The benchmark's three kinds of work, each as a plain function of a batch so the raw-kafkajs
 * baseline and kasper-ts run exactly the same code:
 *   pass-through  one output per input
 *   redis         one getAll and one putAll per batch (latest value per key), one output per input
 *   cpu           a fixed amount of CPU per message (SHA-256 rounds), one output per input
 *   elasticsearch, cassandra
 *                 the redis work through kasper-ts's own store (ElasticsearchStore, CassandraStore):
 *                 one getAll and one putAll per batch, one output per input (kasper-ts modes only)
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { KeyValueStore } from '../src/index.js'

export type WorkloadName = 'pass-through' | 'redis' | 'cpu' | 'elasticsearch' | 'cassandra'

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

/** Latest value per key through a store: one getAll and one putAll per batch (1000 distinct keys). */
export function storeWork(store: KeyValueStore<Buffer>): Work {
  return async (records) => {
    const keyOf = (r: Record, i: number) => (r.key ? r.key.toString() : String(i % 1000))
    await store.getAll(new Set(records.map(keyOf)))
    const latest = new Map<string, Buffer>()
    records.forEach((r, i) => {
      latest.set(keyOf(r, i), r.value ?? Buffer.alloc(0))
    })
    await store.putAll(latest)
    return records.map((r) => ({ key: r.key, value: r.value }))
  }
}

export function workload(name: WorkloadName, redis?: Redis, prefix = 'bench', store?: KeyValueStore<Buffer>): Work {
  switch (name) {
    case 'elasticsearch':
    case 'cassandra':
      if (!store) throw new Error(`the ${name} workload needs its store`)
      return storeWork(store)
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
