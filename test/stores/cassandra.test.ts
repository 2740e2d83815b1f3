import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CassandraMultiStore,
  CassandraStore,
  ConfigError,
  PrometheusMetrics,
  StoreError,
  stringCodec,
} from '../../src/index.js'
import { cassandraClient, TEST_KEYSPACE, tableOf, useCassandra } from '../helpers/cassandra.js'
import { cassandraContactPoint, uniqueName } from '../helpers/kafka.js'
import { keyValueStoreConformance, multiStoreConformance } from './conformance.js'

const client = useCassandra()
const keyspace = TEST_KEYSPACE

keyValueStoreConformance(
  'CassandraStore',
  ({ prefix, ...options }) => new CassandraStore({ ...options, client: client(), keyspace, table: tableOf(prefix) }),
)
keyValueStoreConformance(
  "CassandraStore, read 'concurrent'",
  ({ prefix, ...options }) =>
    new CassandraStore({ ...options, client: client(), keyspace, table: tableOf(prefix), read: 'concurrent' }),
)
multiStoreConformance(
  'CassandraMultiStore',
  ({ prefix, ...options }) =>
    new CassandraMultiStore({ ...options, client: client(), keyspace, table: tableOf(prefix) }),
)

afterEach(() => vi.restoreAllMocks())

type Call = [query: string, params: unknown[], options: { prepare?: boolean; consistency?: number }]
const calls = (spy: { mock: { calls: unknown[] } }) => spy.mock.calls as Call[]

describe('CassandraStore specifics on a real Cassandra node', () => {
  it("getAll with read 'in' is one IN query per chunk of inChunkSize keys; putAll one prepared INSERT per key", async () => {
    const store = new CassandraStore({
      client: client(),
      keyspace,
      table: tableOf(uniqueName('chunks')),
      codec: stringCodec,
      inChunkSize: 100,
    })
    await store.put('warm', 'up') // creates the table
    const execute = vi.spyOn(client(), 'execute')
    await store.putAll(Array.from({ length: 250 }, (_, i) => [`k${i}`, `v${i}`] as const))
    const inserts = calls(execute).filter(([q]) => q.startsWith('INSERT'))
    expect(inserts).toHaveLength(250)
    expect(inserts.every(([, , o]) => o.prepare === true)).toBe(true)
    execute.mockClear()
    expect((await store.getAll(Array.from({ length: 250 }, (_, i) => `k${i}`))).size).toBe(250)
    expect(execute.mock.calls.map(([q]) => String(q).replace(/FROM \S+/, 'FROM t'))).toEqual(
      Array(3).fill('SELECT key, value, expires_at FROM t WHERE key IN ?'),
    )
  })

  it('reads and writes at LOCAL_QUORUM unless told otherwise; a TTL is also set on the row (USING TTL, whole seconds)', async () => {
    const table = tableOf(uniqueName('cl'))
    const store = new CassandraStore({ client: client(), keyspace, table, codec: stringCodec, ttlMs: 1500 })
    const execute = vi.spyOn(client(), 'execute')
    await store.put('k', 'v')
    await store.get('k')
    const consistencies = calls(execute)
      .filter(([q]) => /^(INSERT|SELECT key)/.test(q))
      .map(([, , o]) => o.consistency)
    expect(consistencies).toEqual([6, 6]) // types.consistencies.localQuorum
    const ttl = await client().execute(`SELECT TTL(value) AS t FROM ${keyspace}.${table} WHERE key = 'k'`)
    expect(ttl.first()?.t).toBeGreaterThan(0)
    expect(ttl.first()?.t).toBeLessThanOrEqual(2)
  })

  it('the multi-store keeps tenants in one table under a <tenant>/ key prefix', async () => {
    const table = tableOf(uniqueName('mt'))
    const store = new CassandraMultiStore({ client: client(), keyspace, table, codec: stringCodec })
    await store.tenant('marvel').put('spiderman', 'peter')
    const row = await client().execute(`SELECT key FROM ${keyspace}.${table} WHERE key = 'marvel/spiderman'`)
    expect(row.rowLength).toBe(1)
    expect(() => store.tenant('a/b')).toThrow(/invalid tenant name "a\/b"/)
  })

  it('bad options are a ConfigError naming the field', () => {
    expect(() => new CassandraStore({ client: client(), keyspace: 'Bad-Name', table: 't' })).toThrow(ConfigError)
    expect(() => new CassandraStore({ client: client(), keyspace, table: 'has space' })).toThrow(
      /table must be a lowercase CQL identifier/,
    )
    expect(() => new CassandraStore({ client: {} as never, keyspace, table: 't' })).toThrow(
      /client must be a cassandra-driver Client/,
    )
    expect(
      () => new CassandraStore({ client: client(), keyspace, table: 't', readConsistency: 'two' as 'one' }),
    ).toThrow(/readConsistency/)
  })

  it('an unreachable node fails the call with a StoreError naming the table', async () => {
    const dead = await cassandraClient(cassandraContactPoint())
    await dead.shutdown()
    const store = new CassandraStore({ client: dead, keyspace, table: 'nowhere', timeoutMs: 2000 })
    const error = await store.getAll(['a']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect((error as Error).message).toMatch(/store getAll failed: (creating )?kasper_test\.nowhere/)
  })

  it('reports kasper_store_* metrics labelled cassandra:<keyspace>.<table>', async () => {
    const metrics = new PrometheusMetrics()
    const table = tableOf(uniqueName('metered'))
    const store = new CassandraStore({ client: client(), keyspace, table, codec: stringCodec, metrics })
    await store.putAll([['a', '1']])
    await store.getAll(['a', 'b'])
    const text = await metrics.registry.metrics()
    expect(text).toContain(`kasper_store_operations_total{store="cassandra:${keyspace}.${table}",operation="putAll"} 1`)
  })
})
