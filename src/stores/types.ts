/**
 * Key-value stores for processor state: one bulk read and one bulk write per batch.
 * Implementations: MemoryStore / MemoryMultiStore, RedisStore / RedisMultiStore.
 */
export interface PutOptions {
  /** Expire the key after this many milliseconds. @defaultValue the store's ttlMs, or never */
  ttlMs?: number
}

export interface KeyValueStore<V> {
  /** The value, or undefined when the key is absent. */
  get(key: string): Promise<V | undefined>
  /** One round trip. Absent keys are absent from the result, never an error. */
  getAll(keys: Iterable<string>): Promise<Map<string, V>>
  put(key: string, value: V, options?: PutOptions): Promise<void>
  /** One round trip; all or nothing where the backend allows (Redis MULTI/EXEC). */
  putAll(entries: Iterable<readonly [string, V]>, options?: PutOptions): Promise<void>
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>
  /** Resolves when every write issued before it is acknowledged. */
  flush(): Promise<void>
}

export interface TenantKey {
  tenant: string
  key: string
}

/** Values grouped by tenant: what MultiStore.fetch returns and push writes. */
export class TenantMap<V> {
  readonly #tenants = new Map<string, Map<string, V>>()

  get(tenant: string, key: string): V | undefined {
    return this.#tenants.get(tenant)?.get(key)
  }

  set(tenant: string, key: string, value: V): this {
    let map = this.#tenants.get(tenant)
    if (!map) {
      map = new Map()
      this.#tenants.set(tenant, map)
    }
    map.set(key, value)
    return this
  }

  has(tenant: string, key: string): boolean {
    return this.#tenants.get(tenant)?.has(key) ?? false
  }

  /** The tenant's entries (a live view). */
  tenant(tenant: string): ReadonlyMap<string, V> {
    return this.#tenants.get(tenant) ?? new Map()
  }

  tenants(): string[] {
    return [...this.#tenants.keys()].sort()
  }

  get size(): number {
    let n = 0
    for (const map of this.#tenants.values()) n += map.size
    return n
  }

  *entries(): IterableIterator<[TenantKey, V]> {
    for (const [tenant, map] of this.#tenants) for (const [key, value] of map) yield [{ tenant, key }, value]
  }
}

/** A store per tenant, plus bulk operations across tenants. */
export interface MultiStore<V> {
  tenant(name: string): KeyValueStore<V>
  /** Tenants this instance has touched (through tenant(), fetch or push), sorted. */
  allTenants(): string[]
  /** One round trip across tenants; absent keys are absent from the result. */
  fetch(keys: Iterable<TenantKey>): Promise<TenantMap<V>>
  /** One round trip across tenants, all or nothing where the backend allows. */
  push(values: TenantMap<V>, options?: PutOptions): Promise<void>
}
