/**
 * Stores in an Elasticsearch (7, 8) or OpenSearch (1, 2) cluster, over the REST API both speak,
 * with Node's own fetch: getAll is one `_mget`, putAll one `_bulk`. Document id = key, one index
 * per store (per tenant for the multi-store). See docs/stores.md for why no client library.
 */

import { StoreError } from '../errors.js'
import { readMap, readTenantMap, TenantStores, tenantEntries } from './bulk-io.js'
import { bufferCodec, type Codec } from './codecs.js'
import {
  type ElasticsearchMultiStoreOptions,
  type ElasticsearchStoreOptions,
  indexNameProblem,
  parseElasticsearchMultiStoreOptions,
  parseElasticsearchStoreOptions,
  type ResolvedSearchOptions,
} from './elasticsearch-options.js'
import { StoreMetrics } from './store-metrics.js'
import type { KeyValueStore, MultiStore, PutOptions, TenantKey, TenantMap } from './types.js'

/** Where kasper-ts keeps a document's expiry (ms since the epoch) when it has a TTL. */
export const EXPIRES_AT = 'kasper_expires_at'

interface DocRef {
  index: string
  id: string
}

interface MgetDoc {
  found?: boolean
  _source?: Record<string, unknown>
  error?: { type?: string; reason?: string }
}

interface BulkItem {
  status: number
  error?: { type?: string; reason?: string }
  _id?: string
  _index?: string
}

/** The HTTP side shared by the single and the multi-tenant store. */
class SearchIO<V> {
  readonly #headers: Record<string, string>
  /** Indices this instance created (or found), with their mapping. */
  readonly #ready = new Map<string, Promise<void>>()

  constructor(
    readonly options: ResolvedSearchOptions,
    readonly codec: Codec<V>,
  ) {
    const { auth } = options
    this.#headers = { accept: 'application/json' }
    if (auth && 'apiKey' in auth) this.#headers.authorization = `ApiKey ${auth.apiKey}`
    else if (auth) {
      this.#headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
    }
  }

  async request(operation: string, method: string, path: string, body?: string, ndjson = false): Promise<unknown> {
    const url = new URL(path, this.options.node)
    let response: Response
    let text: string
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...this.#headers,
          ...(body === undefined ? {} : { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' }),
        },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      })
      text = await response.text()
    } catch (error) {
      const why = (error as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : ''
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message
      throw new StoreError(operation, `${method} ${url.host}${url.pathname}: ${why || cause}`, error)
    }
    if (!response.ok) {
      throw new StoreError(operation, `${method} ${url.pathname}: HTTP ${response.status} ${text.slice(0, 300)}`)
    }
    return text.length > 0 ? JSON.parse(text) : undefined
  }

  /** One `_mget`: the values in the order asked; absent (or expired) ones undefined. */
  async read(operation: string, refs: readonly DocRef[]): Promise<(V | undefined)[]> {
    if (refs.length === 0) return []
    const { routing } = this.options
    const body = JSON.stringify({
      docs: refs.map(({ index, id }) => ({ _index: index, _id: id, ...(routing ? { routing: routing(id) } : {}) })),
    })
    const response = (await this.request(operation, 'POST', '/_mget', body)) as { docs?: MgetDoc[] }
    const now = Date.now()
    return refs.map((ref, i) => {
      const doc = response.docs?.[i]
      if (doc?.error) {
        if (doc.error.type === 'index_not_found_exception') return undefined
        throw new StoreError(operation, `reading ${ref.index}/${ref.id}: ${doc.error.type}: ${doc.error.reason}`)
      }
      if (!doc?.found || !doc._source) return undefined
      return this.#decode(operation, doc._source, now)
    })
  }

  /** One `_bulk` of index actions (indices created with their mapping first, once per instance). */
  async write(operation: string, entries: readonly (readonly [DocRef, V])[], options?: PutOptions): Promise<void> {
    if (entries.length === 0) return
    // encoded (and checked) before anything is sent; the expiry counts from when the write goes out
    const docs = entries.map(([ref, value]) => [ref, this.#encode(operation, value)] as const)
    await Promise.all(
      [...new Set(entries.map(([ref]) => ref.index))].map((index) => this.ensureIndex(operation, index)),
    )
    const ttl = options?.ttlMs ?? this.options.ttlMs
    const expiry = ttl === undefined ? {} : { [EXPIRES_AT]: Date.now() + ttl }
    const lines: string[] = []
    for (const [{ index, id }, doc] of docs) {
      const routing = this.options.routing?.(id)
      lines.push(JSON.stringify({ index: { _index: index, _id: id, ...(routing ? { routing } : {}) } }))
      lines.push(JSON.stringify({ ...doc, ...expiry }))
    }
    const refresh = String(this.options.refresh)
    const response = (await this.request(
      operation,
      'POST',
      `/_bulk?refresh=${refresh}`,
      `${lines.join('\n')}\n`,
      true,
    )) as {
      errors?: boolean
      items?: Record<string, BulkItem>[]
    }
    if (!response.errors) return
    const failed = (response.items ?? []).map((item) => Object.values(item)[0] as BulkItem).filter((i) => i.error)
    const first = failed[0]
    throw new StoreError(
      operation,
      `${failed.length} of ${entries.length} documents were not written (the others were), first ${first?._index}/${first?._id}: ${first?.error?.type}: ${first?.error?.reason}`,
    )
  }

  async remove(operation: string, { index, id }: DocRef): Promise<void> {
    const routing = this.options.routing?.(id)
    const query = new URLSearchParams({ refresh: String(this.options.refresh), ...(routing ? { routing } : {}) })
    try {
      await this.request(operation, 'DELETE', `/${index}/_doc/${encodeURIComponent(id)}?${query}`)
    } catch (error) {
      // an absent document or index: nothing to delete
      if (!/HTTP 404/.test((error as Error).message)) throw error
    }
  }

  /** Creates the index with kasper-ts's mapping unless it exists; once per index and instance. */
  ensureIndex(operation: string, index: string): Promise<void> {
    let ready = this.#ready.get(index)
    if (!ready) {
      const properties: Record<string, unknown> = { [EXPIRES_AT]: { type: 'date', format: 'epoch_millis' } }
      if (this.options.document === 'binary') properties.value = { type: 'binary' }
      ready = this.request(operation, 'PUT', `/${index}`, JSON.stringify({ mappings: { properties } })).then(
        () => undefined,
        (error: unknown) => {
          if (/resource_already_exists_exception/.test((error as Error).message)) return
          this.#ready.delete(index)
          throw error
        },
      )
      this.#ready.set(index, ready)
    }
    return ready
  }

  #encode(operation: string, value: V): Record<string, unknown> {
    const encoded = this.codec.encode(value)
    if (this.options.document === 'binary') return { value: Buffer.from(encoded).toString('base64') }
    let source: unknown
    try {
      source = JSON.parse(Buffer.from(encoded).toString('utf8'))
    } catch (error) {
      throw new StoreError(operation, `document 'json' needs values that encode to JSON: ${(error as Error).message}`)
    }
    if (typeof source !== 'object' || source === null || Array.isArray(source)) {
      throw new StoreError(
        operation,
        "document 'json' needs values that encode to a JSON object (use document 'binary')",
      )
    }
    return source as Record<string, unknown>
  }

  #decode(operation: string, source: Record<string, unknown>, now: number): V | undefined {
    const { [EXPIRES_AT]: expiresAt, ...rest } = source
    if (typeof expiresAt === 'number' && expiresAt <= now) return undefined
    const bytes =
      this.options.document === 'binary'
        ? Buffer.from(String(rest.value ?? ''), 'base64')
        : Buffer.from(JSON.stringify(rest))
    try {
      return this.codec.decode(bytes)
    } catch (error) {
      throw new StoreError(operation, `cannot decode a value: ${(error as Error).message}`, error)
    }
  }
}

/** A KeyValueStore in one Elasticsearch or OpenSearch index: getAll one `_mget`, putAll one `_bulk`. */
export class ElasticsearchStore<V = Buffer> implements KeyValueStore<V> {
  readonly index: string
  readonly #io: SearchIO<V>
  readonly #metrics: StoreMetrics

  constructor(options: ElasticsearchStoreOptions<V>) {
    const { index, ...parsed } = parseElasticsearchStoreOptions(options)
    this.index = index
    this.#io = new SearchIO(parsed, (options.codec ?? bufferCodec) as Codec<V>)
    this.#metrics = new StoreMetrics(`elasticsearch:${index}`, parsed.metrics)
  }

  async get(key: string): Promise<V | undefined> {
    return this.#metrics.time('get', 1, async () => (await this.#io.read('get', [{ index: this.index, id: key }]))[0])
  }

  getAll(keys: Iterable<string>): Promise<Map<string, V>> {
    const list = [...keys]
    return this.#metrics.time('getAll', list.length, async () => {
      return readMap(this.#io, 'getAll', list, (id) => ({ index: this.index, id }))
    })
  }

  put(key: string, value: V, options?: PutOptions): Promise<void> {
    return this.#metrics.time('put', 1, () => this.#io.write('put', [[{ index: this.index, id: key }, value]], options))
  }

  putAll(entries: Iterable<readonly [string, V]>, options?: PutOptions): Promise<void> {
    const list = [...entries].map(([id, value]) => [{ index: this.index, id }, value] as const)
    return this.#metrics.time('putAll', list.length, () => this.#io.write('putAll', list, options))
  }

  delete(key: string): Promise<void> {
    return this.#metrics.time('delete', 1, () => this.#io.remove('delete', { index: this.index, id: key }))
  }

  /** Every write was acknowledged when it resolved; this checks the cluster answers. */
  flush(): Promise<void> {
    return this.#metrics.time('flush', 0, async () => {
      await this.#io.request('flush', 'GET', '/')
    })
  }
}

/** A MultiStore over Elasticsearch or OpenSearch: an index per tenant (`<prefix>-<tenant>`), one `_mget` or `_bulk` across them. */
export class ElasticsearchMultiStore<V = Buffer> implements MultiStore<V> {
  readonly prefix: string
  readonly #options: ElasticsearchMultiStoreOptions<V>
  readonly #stores: TenantStores<ElasticsearchStore<V>>
  readonly #io: SearchIO<V>
  readonly #metrics: StoreMetrics

  constructor(options: ElasticsearchMultiStoreOptions<V>) {
    const { prefix, ...parsed } = parseElasticsearchMultiStoreOptions(options)
    this.prefix = prefix
    this.#options = options
    this.#io = new SearchIO(parsed, (options.codec ?? bufferCodec) as Codec<V>)
    this.#metrics = new StoreMetrics(`elasticsearch-multi:${prefix}`, parsed.metrics)
    this.#stores = new TenantStores((name) => {
      const { prefix: _prefix, ...rest } = this.#options
      return new ElasticsearchStore<V>({ ...rest, index: this.indexOf(name) })
    })
  }

  /** The index of a tenant; a tenant name that cannot be part of an index name is a TypeError. */
  indexOf(tenant: string): string {
    const index = `${this.prefix}-${tenant}`
    const problem = tenant.length === 0 ? 'empty' : indexNameProblem(index)
    if (problem) throw new TypeError(`invalid tenant name ${JSON.stringify(tenant)}: ${problem}`)
    return index
  }

  tenant(name: string): ElasticsearchStore<V> {
    return this.#stores.get(name)
  }

  allTenants(): string[] {
    return this.#stores.names()
  }

  fetch(keys: Iterable<TenantKey>): Promise<TenantMap<V>> {
    const list = [...keys]
    return this.#metrics.time('fetch', list.length, async () => {
      for (const { tenant } of list) this.tenant(tenant)
      return readTenantMap(this.#io, 'fetch', list, (tenant, key) => ({ index: this.indexOf(tenant), id: key }))
    })
  }

  push(values: TenantMap<V>, options?: PutOptions): Promise<void> {
    const entries = tenantEntries(values, (tenant, key) => {
      this.tenant(tenant)
      return { index: this.indexOf(tenant), id: key }
    })
    return this.#metrics.time('push', entries.length, () => this.#io.write('push', entries, options))
  }
}
