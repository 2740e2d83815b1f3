import { StoreError } from '../errors.js'
import { TenantStores } from './bulk-io.js'
import { bufferCodec, type Codec } from './codecs.js'
import { type MemoryStoreOptions, parseMemoryStoreOptions } from './options.js'
import { StoreMetrics } from './store-metrics.js'
import { type KeyValueStore, type MultiStore, type PutOptions, type TenantKey, TenantMap } from './types.js'

interface Entry {
  bytes: Buffer
  expiresAt: number | undefined
}

const toBuffer = (encoded: Buffer | string) =>
  typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : Buffer.from(encoded)

/**
 * An in-process store with the same semantics as RedisStore (values are encoded and copied, TTLs
 * expire). For tests and single-process jobs: state is lost when the process ends.
 */
export class MemoryStore<V = Buffer> implements KeyValueStore<V> {
  readonly prefix: string
  readonly #data: Map<string, Entry>
  readonly #codec: Codec<V>
  readonly #ttlMs: number | undefined
  readonly #metrics: StoreMetrics

  constructor(options: MemoryStoreOptions<V>, data: Map<string, Entry> = new Map()) {
    const parsed = parseMemoryStoreOptions(options)
    this.prefix = parsed.prefix
    this.#codec = (options.codec ?? bufferCodec) as Codec<V>
    this.#ttlMs = parsed.ttlMs
    this.#metrics = new StoreMetrics(`memory:${parsed.prefix}`, parsed.metrics)
    this.#data = data
  }

  get(key: string): Promise<V | undefined> {
    return this.#metrics.time('get', 1, async () => this.#read(key))
  }

  getAll(keys: Iterable<string>): Promise<Map<string, V>> {
    const list = [...keys]
    return this.#metrics.time('getAll', list.length, async () => {
      const out = new Map<string, V>()
      for (const key of list) {
        const value = this.#read(key)
        if (value !== undefined) out.set(key, value)
      }
      return out
    })
  }

  put(key: string, value: V, options?: PutOptions): Promise<void> {
    return this.#metrics.time('put', 1, async () => this.#write(key, value, options))
  }

  putAll(entries: Iterable<readonly [string, V]>, options?: PutOptions): Promise<void> {
    const list = [...entries]
    return this.#metrics.time('putAll', list.length, async () => {
      const encoded = list.map(([k, v]) => [k, toBuffer(this.#codec.encode(v))] as const)
      for (const [key, bytes] of encoded) this.#set(key, bytes, options)
    })
  }

  delete(key: string): Promise<void> {
    return this.#metrics.time('delete', 1, async () => {
      this.#data.delete(key)
    })
  }

  async flush(): Promise<void> {}

  #read(key: string): V | undefined {
    const entry = this.#data.get(key)
    if (!entry) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#data.delete(key)
      return undefined
    }
    try {
      return this.#codec.decode(Buffer.from(entry.bytes))
    } catch (error) {
      throw new StoreError('get', `cannot decode a value: ${(error as Error).message}`, error)
    }
  }

  #write(key: string, value: V, options?: PutOptions) {
    this.#set(key, toBuffer(this.#codec.encode(value)), options)
  }

  #set(key: string, bytes: Buffer, options?: PutOptions) {
    const ttl = options?.ttlMs ?? this.#ttlMs
    this.#data.set(key, { bytes, expiresAt: ttl === undefined ? undefined : Date.now() + ttl })
  }
}

/** In-memory MultiStore: one MemoryStore per tenant. */
export class MemoryMultiStore<V = Buffer> implements MultiStore<V> {
  readonly #stores: TenantStores<MemoryStore<V>>

  constructor(readonly options: MemoryStoreOptions<V>) {
    parseMemoryStoreOptions(options)
    this.#stores = new TenantStores((name) => new MemoryStore<V>({ ...options, prefix: `${name}/${options.prefix}` }))
  }

  tenant(name: string): MemoryStore<V> {
    return this.#stores.get(name)
  }

  allTenants(): string[] {
    return this.#stores.names()
  }

  async fetch(keys: Iterable<TenantKey>): Promise<TenantMap<V>> {
    const out = new TenantMap<V>()
    for (const { tenant, key } of keys) {
      const value = await this.tenant(tenant).get(key)
      if (value !== undefined) out.set(tenant, key, value)
    }
    return out
  }

  async push(values: TenantMap<V>, options?: PutOptions): Promise<void> {
    for (const tenant of values.tenants()) await this.tenant(tenant).putAll(values.tenant(tenant), options)
  }
}
