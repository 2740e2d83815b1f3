import type { Cluster, Redis } from 'ioredis'
import { z } from 'zod'
import type { MetricsProvider } from '../metrics/provider.js'
import { parseOptions } from '../options.js'
import type { Codec } from './codecs.js'

const isCodec = (v: unknown): v is Codec<unknown> =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Codec<unknown>).encode === 'function' &&
  typeof (v as Codec<unknown>).decode === 'function'
const isRedis = (v: unknown): v is Redis | Cluster =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Redis).pipeline === 'function' &&
  typeof (v as Redis).multi === 'function'
const isMetrics = (v: unknown): v is MetricsProvider =>
  typeof v === 'object' && v !== null && typeof (v as MetricsProvider).histogram === 'function'

const common = {
  /** Keys are `<prefix>/<key>` (tenant stores: `<tenant>/<prefix>/<key>`). */
  prefix: z
    .string()
    .min(1, 'prefix must not be empty')
    .regex(/^[^{}]*$/, 'prefix must not contain { or } (see hashTag)'),
  codec: z.custom<Codec<unknown>>(isCodec, 'codec must have encode() and decode()').optional(),
  ttlMs: z.number().int('ttlMs must be an integer').positive('ttlMs must be > 0').optional(),
  metrics: z.custom<MetricsProvider>(isMetrics, 'metrics must be a MetricsProvider').optional(),
}

export const memoryStoreSchema = z.object(common).strict()

export const redisStoreSchema = z
  .object({
    ...common,
    redis: z.custom<Redis | Cluster>(isRedis, 'redis must be an ioredis Redis or Cluster client'),
    /** Fail a call that has no answer after this long (Redis down): the batch fails and is replayed. */
    timeoutMs: z.number().int('timeoutMs must be an integer').positive('timeoutMs must be > 0').default(10_000),
    /** Wrap the prefix in a hash tag (`{prefix}/key`) so a store's keys share one Redis Cluster slot. */
    hashTag: z.boolean().default(false),
  })
  .strict()

export type MemoryStoreOptions<V> = Omit<z.input<typeof memoryStoreSchema>, 'codec'> & { codec?: Codec<V> }
export type RedisStoreOptions<V> = Omit<z.input<typeof redisStoreSchema>, 'codec'> & { codec?: Codec<V> }

export const parseMemoryStoreOptions = (input: unknown) => parseOptions('MemoryStore', memoryStoreSchema, input)
export const parseRedisStoreOptions = (input: unknown) => parseOptions('RedisStore', redisStoreSchema, input)
