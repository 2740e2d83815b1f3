import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ConfigError,
  ElasticsearchMultiStore,
  ElasticsearchStore,
  jsonCodec,
  PrometheusMetrics,
  StoreError,
  stringCodec,
} from '../../src/index.js'
import { openSearchUrl, uniqueName } from '../helpers/kafka.js'
import { keyValueStoreConformance, multiStoreConformance } from './conformance.js'

const node = () => openSearchUrl()
const search = async (path: string, init: RequestInit = {}) => (await fetch(`${node()}${path}`, init)).json()

keyValueStoreConformance(
  'ElasticsearchStore',
  ({ prefix, ...options }) => new ElasticsearchStore({ ...options, node: node(), index: prefix }),
)
multiStoreConformance('ElasticsearchMultiStore', (options) => new ElasticsearchMultiStore({ ...options, node: node() }))
keyValueStoreConformance(
  "ElasticsearchStore, document 'json'",
  ({ prefix, codec, ...options }) =>
    // 'json' stores values as searchable documents: the conformance cases' string and Buffer values
    // are wrapped in an object by this codec, JSON values are stored as they are
    new ElasticsearchStore({ ...options, node: node(), index: prefix, document: 'json', codec: wrapped(codec) }),
)

/** A codec whose bytes are always a JSON object, around any inner codec (for the 'json' conformance run). */
function wrapped<V>(inner: { encode(v: V): Buffer | string; decode(b: Buffer): V } | undefined) {
  if (inner === undefined) {
    return {
      encode: (v: V) => JSON.stringify({ b64: Buffer.from(v as Buffer).toString('base64') }),
      decode: (b: Buffer) => Buffer.from((JSON.parse(b.toString()) as { b64: string }).b64, 'base64') as V,
    }
  }
  return {
    encode: (v: V) => JSON.stringify({ s: Buffer.from(inner.encode(v)).toString() }),
    decode: (b: Buffer) => inner.decode(Buffer.from((JSON.parse(b.toString()) as { s: string }).s)),
  }
}

afterEach(() => vi.restoreAllMocks())

describe('ElasticsearchStore specifics on a real OpenSearch node', () => {
  it('getAll is one _mget and putAll one _bulk (after the index is created once)', async () => {
    const store = new ElasticsearchStore({ node: node(), index: uniqueName('rt'), codec: stringCodec })
    await store.put('warm', 'up') // creates the index
    const calls = vi.spyOn(globalThis, 'fetch')
    await store.putAll(Array.from({ length: 1000 }, (_, i) => [`k${i}`, `v${i}`] as const))
    expect((await store.getAll(Array.from({ length: 1000 }, (_, i) => `k${i}`))).size).toBe(1000)
    expect(calls.mock.calls.map(([url]) => new URL(String(url)).pathname)).toEqual(['/_bulk', '/_mget'])
  })

  it("'json' documents are the values themselves, searchable; 'binary' ones a base64 value; ids are the keys", async () => {
    const index = uniqueName('docs')
    const json = new ElasticsearchStore<{ user: string; reach: number }>({
      node: node(),
      index,
      document: 'json',
      codec: jsonCodec(),
      refresh: 'wait_for',
    })
    await json.putAll([
      ['t1', { user: 'ada', reach: 3 }],
      ['t2', { user: 'bob', reach: 5 }],
    ])
    const hits = (await search(`/${index}/_search?q=user:bob`)) as {
      hits: { hits: { _id: string; _source: unknown }[] }
    }
    expect(hits.hits.hits.map((h) => [h._id, h._source])).toEqual([['t2', { user: 'bob', reach: 5 }]])

    const binaryIndex = uniqueName('bin')
    await new ElasticsearchStore({ node: node(), index: binaryIndex, codec: stringCodec }).put('k', 'hello')
    expect(await search(`/${binaryIndex}/_doc/k`)).toMatchObject({ _id: 'k', _source: { value: 'aGVsbG8=' } })
    expect(await search(`/${binaryIndex}/_mapping`)).toMatchObject({
      [binaryIndex]: { mappings: { properties: { value: { type: 'binary' } } } },
    })
  })

  it('the multi-store keeps an index per tenant and reads across tenants in one _mget', async () => {
    const prefix = uniqueName('tenants')
    const store = new ElasticsearchMultiStore({ node: node(), prefix, codec: stringCodec })
    await store.tenant('marvel').put('spiderman', 'peter')
    await store.tenant('dc').put('batman', 'bruce')
    expect(await search(`/${prefix}-marvel/_doc/spiderman`)).toMatchObject({ found: true })
    const calls = vi.spyOn(globalThis, 'fetch')
    const got = await store.fetch([
      { tenant: 'marvel', key: 'spiderman' },
      { tenant: 'dc', key: 'batman' },
    ])
    expect(got.size).toBe(2)
    expect(calls).toHaveBeenCalledTimes(1)
    expect(() => store.tenant('Not/Valid')).toThrow(/invalid tenant name "Not\/Valid"/)
  })

  it('routing sends a document to the shard its function names', async () => {
    const index = uniqueName('routed')
    const store = new ElasticsearchStore({
      node: node(),
      index,
      codec: stringCodec,
      routing: (key) => key.split(':')[0] as string,
    })
    await store.put('user-1:tweet-9', 'x')
    expect(await search(`/${index}/_doc/${encodeURIComponent('user-1:tweet-9')}?routing=user-1`)).toMatchObject({
      found: true,
      _routing: 'user-1',
    })
    expect(await store.get('user-1:tweet-9')).toBe('x')
  })

  it('bad options are a ConfigError naming the field', () => {
    expect(() => new ElasticsearchStore({ node: node(), index: 'Upper' })).toThrow(ConfigError)
    expect(() => new ElasticsearchStore({ node: node(), index: 'Upper' })).toThrow(
      /index: "Upper" is not an index name/,
    )
    expect(() => new ElasticsearchStore({ node: 'ftp://x', index: 'ok' })).toThrow(/node must start with http/)
    expect(() => new ElasticsearchStore({ index: 'ok', document: 'xml' as 'json' })).toThrow(/document/)
    expect(() => new ElasticsearchMultiStore({ prefix: '_bad' })).toThrow(/prefix: "_bad" is not an index name/)
  })

  it("'json' refuses a value that is not a JSON object, with a StoreError, writing nothing", async () => {
    const index = uniqueName('notobj')
    const store = new ElasticsearchStore<string>({ node: node(), index, document: 'json', codec: stringCodec })
    await expect(store.put('k', 'plain text')).rejects.toThrow(/document 'json' needs values that encode to JSON/)
    await expect(store.put('k', '[1,2]')).rejects.toBeInstanceOf(StoreError)
    expect(await store.get('k')).toBeUndefined()
  })

  it('an unreachable cluster fails every call with a StoreError naming the operation and the host', async () => {
    const store = new ElasticsearchStore({ node: 'http://127.0.0.1:59999', index: 'nowhere', timeoutMs: 2000 })
    const error = await store.getAll(['a']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).retriable).toBe(true)
    expect((error as Error).message).toMatch(/store getAll failed: POST 127\.0\.0\.1:59999\/_mget: ECONNREFUSED/)
  })

  it('reports kasper_store_* metrics labelled elasticsearch:<index>', async () => {
    const metrics = new PrometheusMetrics()
    const index = uniqueName('metered')
    const store = new ElasticsearchStore({ node: node(), index, codec: stringCodec, metrics })
    await store.putAll([['a', '1']])
    await store.getAll(['a', 'b'])
    const text = await metrics.registry.metrics()
    expect(text).toContain(`kasper_store_operations_total{store="elasticsearch:${index}",operation="putAll"} 1`)
    expect(text).toContain(`kasper_store_keys_per_call_sum{store="elasticsearch:${index}",operation="getAll"} 2`)
  })
})
