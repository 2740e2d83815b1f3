import calculateSlot from 'cluster-key-slot'
import type { Redis } from 'ioredis'
import { describe, expect, it, vi } from 'vitest'
import {
  ConfigError,
  createRedisClient,
  MemoryMultiStore,
  MemoryStore,
  PrometheusMetrics,
  RedisMultiStore,
  RedisStore,
  StoreError,
  stringCodec,
  TenantMap,
} from '../../src/index.js'
import { setDefaultStoreMetrics } from '../../src/stores/store-metrics.js'
import { redisUrl, uniqueName } from '../helpers/kafka.js'
import { useRedis } from '../helpers/redis.js'
import { keyValueStoreConformance, multiStoreConformance } from './conformance.js'

const client = useRedis()

keyValueStoreConformance('MemoryStore', (options) => new MemoryStore(options))
multiStoreConformance('MemoryMultiStore', (options) => new MemoryMultiStore(options))
keyValueStoreConformance('RedisStore', (options) => new RedisStore({ ...options, redis: client() }))
multiStoreConformance('RedisMultiStore', (options) => new RedisMultiStore({ ...options, redis: client() }))

describe('RedisStore specifics on the real Redis', () => {
  it('keys are <prefix>/<key>, tenant keys <tenant>/<prefix>/<key>', async () => {
    const prefix = uniqueName('fmt')
    await new RedisStore({ redis: client(), prefix, codec: stringCodec }).put('k', 'v')
    await new RedisMultiStore({ redis: client(), prefix, codec: stringCodec }).tenant('acme').put('k', 'w')
    expect(await client().get(`${prefix}/k`)).toBe('v')
    expect(await client().get(`acme/${prefix}/k`)).toBe('w')
  })

  it('getAll is one pipeline and putAll one MULTI/EXEC (one round trip each)', async () => {
    const store = new RedisStore({ redis: client(), prefix: uniqueName('rt'), codec: stringCodec })
    const pipeline = vi.spyOn(client(), 'pipeline')
    const multi = vi.spyOn(client(), 'multi')
    const get = vi.spyOn(client(), 'get')
    await store.putAll(Array.from({ length: 100 }, (_, i) => [`k${i}`, `v${i}`] as const))
    expect(multi).toHaveBeenCalledTimes(1)
    expect((await store.getAll(Array.from({ length: 100 }, (_, i) => `k${i}`))).size).toBe(100)
    expect(pipeline).toHaveBeenCalledTimes(1)
    expect(get).not.toHaveBeenCalled()
    vi.restoreAllMocks()
  })

  it('sets the TTL on the server (PX)', async () => {
    const prefix = uniqueName('ttl')
    await new RedisStore({ redis: client(), prefix, codec: stringCodec, ttlMs: 30_000 }).put('k', 'v')
    const pttl = await client().pttl(`${prefix}/k`)
    expect(pttl).toBeGreaterThan(25_000)
    expect(pttl).toBeLessThanOrEqual(30_000)
  })

  it('with hashTag, every key of a store hashes to one Redis Cluster slot', async () => {
    const store = new RedisStore({ redis: client(), prefix: 'reach', hashTag: true, codec: stringCodec })
    expect(store.keyOf('user-1')).toBe('{reach}/user-1')
    const slots = new Set(['a', 'b', 'user-1', 'user-99999'].map((k) => calculateSlot(store.keyOf(k))))
    expect(slots.size).toBe(1)
    const plain = new RedisStore({ redis: client(), prefix: 'reach', codec: stringCodec })
    expect(new Set(['a', 'b', 'user-1', 'user-99999'].map((k) => calculateSlot(plain.keyOf(k)))).size).toBeGreaterThan(
      1,
    )
    await store.put('user-1', 'x')
    expect(await client().get('{reach}/user-1')).toBe('x')
    await client().del('{reach}/user-1')
  })

  it('records operations, keys per call and latency through the MetricsProvider', async () => {
    const metrics = new PrometheusMetrics()
    const prefix = uniqueName('m')
    const store = new RedisStore({ redis: client(), prefix, codec: stringCodec, metrics })
    await store.putAll([
      ['a', '1'],
      ['b', '2'],
    ])
    await store.getAll(['a', 'b', 'c'])
    const text = await metrics.metrics()
    expect(text).toContain(`kasper_store_operations_total{store="redis:${prefix}",operation="putAll"} 1`)
    expect(text).toContain(`kasper_store_keys_per_call_sum{store="redis:${prefix}",operation="getAll"} 3`)
    expect(text).toContain('kasper_store_operation_duration_seconds_bucket')
  })

  it('stores on a client given default metrics (the job context’s ctx.redis()) record there without a metrics option', async () => {
    const redis = await createRedisClient(redisUrl())
    try {
      const slice = new PrometheusMetrics()
      setDefaultStoreMetrics(redis, slice)
      const prefix = uniqueName('d')
      await new RedisStore({ redis, prefix, codec: stringCodec }).putAll([['a', '1']])
      await new RedisMultiStore({ redis, prefix: `${prefix}-multi`, codec: stringCodec }).push(
        new TenantMap<string>().set('t1', 'a', '1'),
      )
      const own = new PrometheusMetrics()
      await new RedisStore({ redis, prefix: `${prefix}-own`, codec: stringCodec, metrics: own }).get('a')
      const text = await slice.metrics()
      expect(text).toContain(`kasper_store_operations_total{store="redis:${prefix}",operation="putAll"} 1`)
      expect(text).toContain(`store="redis-multi:${prefix}-multi"`)
      // an explicit metrics option wins
      expect(text).not.toContain(`${prefix}-own`)
      expect(await own.metrics()).toContain(
        `kasper_store_operations_total{store="redis:${prefix}-own",operation="get"} 1`,
      )
      await redis.del(`${prefix}/a`, `t1/${prefix}-multi/a`)
    } finally {
      redis.disconnect()
    }
  })

  it('bad options are a ConfigError naming the field', () => {
    expect(() => new RedisStore({ redis: client(), prefix: '' })).toThrow(ConfigError)
    expect(() => new RedisStore({ redis: client(), prefix: '{x}' })).toThrow(/prefix must not contain/)
    expect(() => new RedisStore({ redis: {} as Redis, prefix: 'p' })).toThrow(/redis: redis must be an ioredis/)
    expect(() => new RedisStore({ redis: client(), prefix: 'p', timeoutMs: 0 })).toThrow(/timeoutMs/)
    expect(() => new MemoryStore({ prefix: 'p', ttlMs: -1 })).toThrow(/ttlMs must be > 0/)
  })

  it('a Redis that does not answer is a StoreError, at connect and on every call', async () => {
    await expect(createRedisClient('redis://127.0.0.1:1')).rejects.toBeInstanceOf(StoreError)
    const down = await createRedisClient(redisUrl())
    const store = new RedisStore({ redis: down, prefix: uniqueName('down'), codec: stringCodec, timeoutMs: 500 })
    down.disconnect()
    await expect(store.putAll([['k', 'v']])).rejects.toMatchObject({ code: 'KASPER_STORE_FAILED', operation: 'putAll' })
    await expect(store.getAll(['k'])).rejects.toBeInstanceOf(StoreError)
  })
})
