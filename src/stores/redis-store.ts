import { type Cluster, Redis, type RedisOptions } from 'ioredis'
import { withDeadline } from '../deadline.js'
import { StoreError } from '../errors.js'
import { type Logger, silentLogger } from '../logging/logger.js'
import { readMap, readTenantMap, TenantStores, tenantEntries } from './bulk-io.js'
import { bufferCodec, type Codec } from './codecs.js'
import { parseRedisStoreOptions, type RedisStoreOptions } from './options.js'
import { defaultStoreMetrics, StoreMetrics } from './store-metrics.js'
import type { KeyValueStore, MultiStore, PutOptions, TenantKey, TenantMap } from './types.js'

type Client = Redis | Cluster

/**
 * Client settings for stores: no offline queue and no silent re-sends, so a call made while Redis
 * is down fails at once (StoreError, the batch is replayed) instead of landing late and stale.
 */
export const STORE_CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
}

/**
 * Connects an ioredis client with STORE_CLIENT_OPTIONS; resolves once it is ready. Connection
 * errors after that (Redis going away, reconnect attempts) go to `logger.warn`, with the URL's
 * password never logged; calls made meanwhile fail with StoreError.
 */
export async function createRedisClient(
  url = 'redis://127.0.0.1:6379',
  options: RedisOptions = {},
  logger: Logger = silentLogger,
): Promise<Redis> {
  const client = new Redis(url, { ...STORE_CLIENT_OPTIONS, lazyConnect: true, ...options })
  const host = new URL(url).host
  client.on('error', (error: Error) => logger.warn({ redis: host, err: error.message }, 'Redis connection error'))
  try {
    await client.connect()
  } catch (error) {
    client.disconnect()
    throw new StoreError('connect', `cannot connect to ${host}: ${(error as Error).message}`, error)
  }
  return client
}

type Pair = [Error | null, unknown]

/** Runs a call against Redis with a time limit, turning every failure into a StoreError. */
async function guarded<T>(operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(
      call(),
      timeoutMs,
      () => new StoreError(operation, `no answer from Redis within ${timeoutMs} ms`),
    )
  } catch (error) {
    if (error instanceof StoreError) throw error
    throw new StoreError(operation, (error as Error)?.message ?? String(error), error)
  }
}

function checkResults(operation: string, results: Pair[] | null): unknown[] {
  if (results === null) throw new StoreError(operation, 'transaction aborted')
  return results.map(([error, value]) => {
    if (error) throw new StoreError(operation, error.message, error)
    return value
  })
}

/** Shared by RedisStore and RedisMultiStore: the bulk read and the transactional bulk write. */
class RedisIO<V> {
  constructor(
    readonly redis: Client,
    readonly codec: Codec<V>,
    readonly timeoutMs: number,
    readonly defaultTtlMs: number | undefined,
  ) {}

  /** One pipeline of GETs. */
  async read(operation: string, fullKeys: readonly string[]): Promise<(V | undefined)[]> {
    if (fullKeys.length === 0) return []
    return guarded(operation, this.timeoutMs, async () => {
      const pipeline = this.redis.pipeline()
      for (const key of fullKeys) pipeline.getBuffer(key)
      const values = checkResults(operation, (await pipeline.exec()) as Pair[] | null)
      return values.map((raw) => {
        if (raw === null || raw === undefined) return undefined
        try {
          return this.codec.decode(raw as Buffer)
        } catch (error) {
          throw new StoreError(operation, `cannot decode a value: ${(error as Error).message}`, error)
        }
      })
    })
  }

  /** One MULTI/EXEC of SETs: all or nothing. */
  async write(operation: string, entries: readonly (readonly [string, V])[], options?: PutOptions): Promise<void> {
    if (entries.length === 0) return
    const ttl = options?.ttlMs ?? this.defaultTtlMs
    const encoded = entries.map(([key, value]) => [key, this.codec.encode(value)] as const)
    await guarded(operation, this.timeoutMs, async () => {
      const multi = this.redis.multi()
      for (const [key, value] of encoded) {
        if (ttl === undefined) multi.set(key, value)
        else multi.set(key, value, 'PX', ttl)
      }
      checkResults(operation, (await multi.exec()) as Pair[] | null)
    })
  }
}

/**
 * A KeyValueStore in Redis. Keys are `<prefix>/<key>` (`{<prefix>}/<key>` with hashTag).
 * getAll is one pipeline, putAll one MULTI/EXEC; every failure is a StoreError.
 */
export class RedisStore<V = Buffer> implements KeyValueStore<V> {
  readonly prefix: string
  readonly #io: RedisIO<V>
  readonly #keyPrefix: string
  readonly #metrics: StoreMetrics

  constructor(options: RedisStoreOptions<V>) {
    const parsed = parseRedisStoreOptions(options)
    this.prefix = parsed.prefix
    this.#keyPrefix = parsed.hashTag ? `{${parsed.prefix}}/` : `${parsed.prefix}/`
    this.#io = new RedisIO(parsed.redis, (options.codec ?? bufferCodec) as Codec<V>, parsed.timeoutMs, parsed.ttlMs)
    this.#metrics = new StoreMetrics(`redis:${parsed.prefix}`, parsed.metrics ?? defaultStoreMetrics(parsed.redis))
  }

  /** The Redis key for a store key. */
  keyOf(key: string): string {
    return this.#keyPrefix + key
  }

  get(key: string): Promise<V | undefined> {
    return this.#metrics.time('get', 1, async () => (await this.#io.read('get', [this.keyOf(key)]))[0])
  }

  getAll(keys: Iterable<string>): Promise<Map<string, V>> {
    const list = [...keys]
    return this.#metrics.time('getAll', list.length, async () => {
      return readMap(this.#io, 'getAll', list, (k) => this.keyOf(k))
    })
  }

  put(key: string, value: V, options?: PutOptions): Promise<void> {
    return this.#metrics.time('put', 1, () => this.#io.write('put', [[this.keyOf(key), value]], options))
  }

  putAll(entries: Iterable<readonly [string, V]>, options?: PutOptions): Promise<void> {
    const list = [...entries].map(([k, v]) => [this.keyOf(k), v] as const)
    return this.#metrics.time('putAll', list.length, () => this.#io.write('putAll', list, options))
  }

  delete(key: string): Promise<void> {
    return this.#metrics.time('delete', 1, () =>
      guarded('delete', this.#io.timeoutMs, async () => {
        await this.#io.redis.del(this.keyOf(key))
      }),
    )
  }

  /** Waits until Redis has answered everything sent before (a PING round trip). Durability is the server's persistence config. */
  flush(): Promise<void> {
    return this.#metrics.time('flush', 0, () =>
      guarded('flush', this.#io.timeoutMs, async () => {
        await this.#io.redis.ping()
      }),
    )
  }
}

/** A MultiStore in Redis. Keys are `<tenant>/<prefix>/<key>`; fetch is one pipeline, push one MULTI/EXEC. */
export class RedisMultiStore<V = Buffer> implements MultiStore<V> {
  readonly #options: RedisStoreOptions<V>
  readonly #stores: TenantStores<RedisStore<V>>
  readonly #io: RedisIO<V>
  readonly #metrics: StoreMetrics

  constructor(options: RedisStoreOptions<V>) {
    const parsed = parseRedisStoreOptions(options)
    this.#options = options
    this.#io = new RedisIO(parsed.redis, (options.codec ?? bufferCodec) as Codec<V>, parsed.timeoutMs, parsed.ttlMs)
    this.#metrics = new StoreMetrics(
      `redis-multi:${parsed.prefix}`,
      parsed.metrics ?? defaultStoreMetrics(parsed.redis),
    )
    this.#stores = new TenantStores(
      (name) => new RedisStore<V>({ ...this.#options, prefix: `${name}/${this.#options.prefix}` }),
    )
  }

  tenant(name: string): RedisStore<V> {
    if (name.length === 0 || /[{}]/.test(name)) throw new TypeError(`invalid tenant name ${JSON.stringify(name)}`)
    return this.#stores.get(name)
  }

  allTenants(): string[] {
    return this.#stores.names()
  }

  fetch(keys: Iterable<TenantKey>): Promise<TenantMap<V>> {
    const list = [...keys]
    return this.#metrics.time('fetch', list.length, async () => {
      return readTenantMap(this.#io, 'fetch', list, (tenant, key) => this.tenant(tenant).keyOf(key))
    })
  }

  push(values: TenantMap<V>, options?: PutOptions): Promise<void> {
    const entries = tenantEntries(values, (tenant, key) => this.tenant(tenant).keyOf(key))
    return this.#metrics.time('push', entries.length, () => this.#io.write('push', entries, options))
  }
}
