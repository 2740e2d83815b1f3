/**
 * What the Redis, Elasticsearch and Cassandra stores share above their I/O: each I/O reads the values
 * at a list of addresses (keys, documents) in order and writes [address, value] entries; these turn
 * that into the KeyValueStore and MultiStore answers, and keep each MultiStore's tenant stores.
 */
import { type PutOptions, type TenantKey, TenantMap } from './types.js'

export interface BulkIO<A, V> {
  /** The values at `addresses`, in their order; undefined where there is none. */
  read(operation: string, addresses: readonly A[]): Promise<(V | undefined)[]>
  write(operation: string, entries: readonly (readonly [A, V])[], options?: PutOptions): Promise<void>
}

/** getAll: one read of every key's address; the values found, by key. */
export async function readMap<A, V>(
  io: BulkIO<A, V>,
  operation: string,
  keys: readonly string[],
  address: (key: string) => A,
): Promise<Map<string, V>> {
  const values = await io.read(operation, keys.map(address))
  const out = new Map<string, V>()
  keys.forEach((key, i) => {
    const value = values[i]
    if (value !== undefined) out.set(key, value)
  })
  return out
}

/** MultiStore.fetch: one read of every tenant key's address; the values found, by tenant and key. */
export async function readTenantMap<A, V>(
  io: BulkIO<A, V>,
  operation: string,
  keys: readonly TenantKey[],
  address: (tenant: string, key: string) => A,
): Promise<TenantMap<V>> {
  const values = await io.read(
    operation,
    keys.map(({ tenant, key }) => address(tenant, key)),
  )
  const out = new TenantMap<V>()
  keys.forEach(({ tenant, key }, i) => {
    const value = values[i]
    if (value !== undefined) out.set(tenant, key, value)
  })
  return out
}

/** MultiStore.push: every tenant value as an [address, value] entry. */
export function tenantEntries<A, V>(
  values: TenantMap<V>,
  address: (tenant: string, key: string) => A,
): (readonly [A, V])[] {
  return [...values.entries()].map(([{ tenant, key }, value]) => [address(tenant, key), value] as const)
}

/** A MultiStore's tenant stores, each made once on first use. */
export class TenantStores<S> {
  readonly #stores = new Map<string, S>()

  constructor(private readonly create: (tenant: string) => S) {}

  get(tenant: string): S {
    let store = this.#stores.get(tenant)
    if (!store) {
      store = this.create(tenant)
      this.#stores.set(tenant, store)
    }
    return store
  }

  /** Every tenant used so far, sorted. */
  names(): string[] {
    return [...this.#stores.keys()].sort()
  }
}
