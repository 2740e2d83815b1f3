/**
 * Stores in Apache Cassandra on cassandra-driver: a table per store, `(key text PRIMARY KEY, value
 * blob, expires_at bigint)`. getAll: concurrent prepared reads (or IN queries per chunk), putAll:
 * concurrent prepared writes, each at the configured consistency (LOCAL_QUORUM by default). The
 * multi-tenant store keeps every tenant in one table, under a `<tenant>/` key prefix.
 */

import { createRequire } from 'node:module'
import type { types as CassandraTypes } from 'cassandra-driver'
import { StoreError } from '../errors.js'
import { readMap, readTenantMap, TenantStores, tenantEntries } from './bulk-io.js'
import {
  type CassandraClient,
  type CassandraStoreOptions,
  parseCassandraStoreOptions,
  type ResolvedCassandraOptions,
} from './cassandra-options.js'
import { bufferCodec, type Codec } from './codecs.js'
import { StoreMetrics } from './store-metrics.js'
import type { KeyValueStore, MultiStore, PutOptions, TenantKey, TenantMap } from './types.js'

/**
 * cassandra-driver's types, loaded when the first Cassandra store is built: the driver is an
 * optional peer dependency (the application that uses these stores installs it and makes the
 * Client), and loading it costs ~140 ms that no other user of kasper-ts should pay.
 */
let driverTypes: typeof CassandraTypes | undefined
function cassandraTypes(): typeof CassandraTypes {
  driverTypes ??= (createRequire(import.meta.url)('cassandra-driver') as { types: typeof CassandraTypes }).types
  return driverTypes
}

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** @internal The CQL side shared by the single and the multi-tenant store, over full keys. */
export class CassandraIO<V> {
  readonly #client: CassandraClient
  readonly #table: string
  readonly #types: typeof CassandraTypes
  #ready: Promise<void> | undefined

  constructor(
    readonly options: ResolvedCassandraOptions,
    readonly codec: Codec<V>,
  ) {
    this.#client = options.client
    this.#table = `${options.keyspace}.${options.table}`
    this.#types = cassandraTypes()
  }

  async #run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      await this.#ensureTable(operation)
      return await call()
    } catch (error) {
      if (error instanceof StoreError) throw error
      throw new StoreError(operation, `${this.#table}: ${(error as Error).message}`, error)
    }
  }

  #ensureTable(operation: string): Promise<void> {
    if (this.#ready) return this.#ready
    const ready = this.#client
      .execute(`CREATE TABLE IF NOT EXISTS ${this.#table} (key text PRIMARY KEY, value blob, expires_at bigint)`, [], {
        readTimeout: Math.max(this.options.timeoutMs, 30_000),
      })
      .then(
        () => undefined,
        (error: unknown) => {
          this.#ready = undefined
          throw new StoreError(operation, `creating ${this.#table}: ${(error as Error).message}`, error)
        },
      )
    this.#ready = ready
    return ready
  }

  #exec(query: string, params: unknown[], consistency: ResolvedCassandraOptions['readConsistency']) {
    return this.#client.execute(query, params, {
      prepare: true,
      consistency: this.#types.consistencies[consistency],
      readTimeout: this.options.timeoutMs,
    })
  }

  /** Values in the order of `keys`; absent or expired ones undefined. */
  async read(operation: string, keys: readonly string[]): Promise<(V | undefined)[]> {
    if (keys.length === 0) return []
    const { read, inChunkSize, concurrency, readConsistency } = this.options
    return this.#run(operation, async () => {
      const found = new Map<string, { value: Buffer | null; expires_at: CassandraTypes.Long | null }>()
      const select = `SELECT key, value, expires_at FROM ${this.#table} WHERE key`
      if (read === 'in') {
        const chunks: string[][] = []
        for (let i = 0; i < keys.length; i += inChunkSize) chunks.push(keys.slice(i, i + inChunkSize))
        await mapLimit(chunks, concurrency, async (chunk) => {
          const result = await this.#exec(`${select} IN ?`, [chunk], readConsistency)
          for (const row of result.rows) found.set(row.key as string, row as never)
        })
      } else {
        await mapLimit([...new Set(keys)], concurrency, async (key) => {
          const row = (await this.#exec(`${select} = ?`, [key], readConsistency)).first()
          if (row) found.set(key, row as never)
        })
      }
      const now = Date.now()
      return keys.map((key) => {
        const row = found.get(key)
        if (!row || row.value === null) return undefined
        if (row.expires_at !== null && row.expires_at.toNumber() <= now) return undefined
        try {
          return this.codec.decode(row.value)
        } catch (error) {
          throw new StoreError(operation, `cannot decode a value: ${(error as Error).message}`, error)
        }
      })
    })
  }

  /** Concurrent prepared INSERTs (every key is its own partition: a batch would only add coordinator work). */
  async write(operation: string, entries: readonly (readonly [string, V])[], options?: PutOptions): Promise<void> {
    if (entries.length === 0) return
    const encoded = entries.map(([key, value]) => [key, Buffer.from(this.codec.encode(value))] as const)
    const ttl = options?.ttlMs ?? this.options.ttlMs
    await this.#run(operation, async () => {
      const expiresAt = ttl === undefined ? null : this.#types.Long.fromNumber(Date.now() + ttl)
      const query =
        ttl === undefined
          ? `INSERT INTO ${this.#table} (key, value, expires_at) VALUES (?, ?, ?)`
          : `INSERT INTO ${this.#table} (key, value, expires_at) VALUES (?, ?, ?) USING TTL ${Math.ceil(ttl / 1000)}`
      await mapLimit(encoded, this.options.concurrency, (entry) =>
        this.#exec(query, [entry[0], entry[1], expiresAt], this.options.writeConsistency),
      )
    })
  }

  remove(operation: string, key: string): Promise<void> {
    return this.#run(operation, async () => {
      await this.#exec(`DELETE FROM ${this.#table} WHERE key = ?`, [key], this.options.writeConsistency)
    })
  }

  ping(operation: string): Promise<void> {
    return this.#run(operation, async () => {
      await this.#client.execute('SELECT now() FROM system.local', [], { readTimeout: this.options.timeoutMs })
    })
  }
}

/** @internal A KeyValueStore over a table and a key prefix: a CassandraStore, or a tenant of a CassandraMultiStore. */
export class CassandraKeyedStore<V> implements KeyValueStore<V> {
  readonly #io: CassandraIO<V>
  readonly #metrics: StoreMetrics
  readonly #keyPrefix: string

  constructor(io: CassandraIO<V>, metrics: StoreMetrics, keyPrefix: string) {
    this.#io = io
    this.#metrics = metrics
    this.#keyPrefix = keyPrefix
  }

  async get(key: string): Promise<V | undefined> {
    return this.#metrics.time('get', 1, async () => (await this.#io.read('get', [this.#keyPrefix + key]))[0])
  }

  getAll(keys: Iterable<string>): Promise<Map<string, V>> {
    const list = [...keys]
    return this.#metrics.time('getAll', list.length, async () => {
      return readMap(this.#io, 'getAll', list, (k) => this.#keyPrefix + k)
    })
  }

  put(key: string, value: V, options?: PutOptions): Promise<void> {
    return this.#metrics.time('put', 1, () => this.#io.write('put', [[this.#keyPrefix + key, value]], options))
  }

  putAll(entries: Iterable<readonly [string, V]>, options?: PutOptions): Promise<void> {
    const list = [...entries].map(([k, v]) => [this.#keyPrefix + k, v] as const)
    return this.#metrics.time('putAll', list.length, () => this.#io.write('putAll', list, options))
  }

  delete(key: string): Promise<void> {
    return this.#metrics.time('delete', 1, () => this.#io.remove('delete', this.#keyPrefix + key))
  }

  /** Every write was acknowledged at writeConsistency when it resolved; this checks the node answers. */
  flush(): Promise<void> {
    return this.#metrics.time('flush', 0, () => this.#io.ping('flush'))
  }
}

/** A KeyValueStore in one Cassandra table. */
export class CassandraStore<V = Buffer> extends CassandraKeyedStore<V> {
  constructor(options: CassandraStoreOptions<V>) {
    const parsed = parseCassandraStoreOptions(options)
    super(
      new CassandraIO(parsed, (options.codec ?? bufferCodec) as Codec<V>),
      new StoreMetrics(`cassandra:${parsed.keyspace}.${parsed.table}`, parsed.metrics),
      '',
    )
  }
}

/**
 * A MultiStore in one Cassandra table: a tenant's keys are `<tenant>/<key>` (a partition-key prefix,
 * not a table per tenant: Cassandra schema changes are slow and cluster-wide, tenants come and go).
 */
export class CassandraMultiStore<V = Buffer> implements MultiStore<V> {
  readonly #stores: TenantStores<CassandraKeyedStore<V>>
  readonly #io: CassandraIO<V>
  readonly #metrics: StoreMetrics

  constructor(options: CassandraStoreOptions<V>) {
    const parsed = parseCassandraStoreOptions(options, 'CassandraMultiStore')
    this.#io = new CassandraIO(parsed, (options.codec ?? bufferCodec) as Codec<V>)
    this.#metrics = new StoreMetrics(`cassandra-multi:${parsed.keyspace}.${parsed.table}`, parsed.metrics)
    this.#stores = new TenantStores((name) => new CassandraKeyedStore<V>(this.#io, this.#metrics, `${name}/`))
  }

  tenant(name: string): KeyValueStore<V> {
    if (name.length === 0 || name.includes('/')) throw new TypeError(`invalid tenant name ${JSON.stringify(name)}`)
    return this.#stores.get(name)
  }

  allTenants(): string[] {
    return this.#stores.names()
  }

  fetch(keys: Iterable<TenantKey>): Promise<TenantMap<V>> {
    const list = [...keys]
    return this.#metrics.time('fetch', list.length, async () => {
      for (const { tenant } of list) this.tenant(tenant)
      return readTenantMap(this.#io, 'fetch', list, (tenant, key) => `${tenant}/${key}`)
    })
  }

  push(values: TenantMap<V>, options?: PutOptions): Promise<void> {
    const entries = tenantEntries(values, (tenant, key) => {
      this.tenant(tenant)
      return `${tenant}/${key}`
    })
    return this.#metrics.time('push', entries.length, () => this.#io.write('push', entries, options))
  }
}
