/**
 * One behaviour for every store: each implementation runs these same cases (the Redis ones
 * against the real Redis). Add a case here, and every backend must pass it.
 */
import { describe, expect, it } from 'vitest'
import {
  type Codec,
  jsonCodec,
  type KeyValueStore,
  type MultiStore,
  StoreError,
  stringCodec,
  TenantMap,
} from '../../src/index.js'

export type StoreFactory = <V>(options: { prefix: string; codec?: Codec<V>; ttlMs?: number }) => KeyValueStore<V>
export type MultiStoreFactory = <V>(options: { prefix: string; codec?: Codec<V> }) => MultiStore<V>

let counter = 0
const prefix = () => `conf-${process.pid}-${Date.now().toString(36)}-${counter++}`

export function keyValueStoreConformance(name: string, create: StoreFactory) {
  describe(`${name}: KeyValueStore conformance`, () => {
    it('get returns undefined for an absent key, and the value after put (Buffer by default)', async () => {
      const store = create<Buffer>({ prefix: prefix() })
      expect(await store.get('missing')).toBeUndefined()
      await store.put('k', Buffer.from([0, 1, 255]))
      expect(await store.get('k')).toEqual(Buffer.from([0, 1, 255]))
    })

    it('put overwrites', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      await store.put('k', 'one')
      await store.put('k', 'two')
      expect(await store.get('k')).toBe('two')
    })

    it('getAll returns present keys only: a missing key is absent, never an error', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      await store.putAll([
        ['a', '1'],
        ['b', '2'],
      ])
      const got = await store.getAll(['a', 'missing', 'b'])
      expect([...got.entries()].sort()).toEqual([
        ['a', '1'],
        ['b', '2'],
      ])
      expect((await store.getAll([])).size).toBe(0)
      expect((await store.getAll(['x', 'y'])).size).toBe(0)
    })

    it('putAll writes every entry (and nothing for an empty input)', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      const entries = Array.from({ length: 500 }, (_, i) => [`k${i}`, `v${i}`] as const)
      await store.putAll(entries)
      await store.putAll([])
      const got = await store.getAll(entries.map(([k]) => k))
      expect(got.size).toBe(500)
      expect(got.get('k499')).toBe('v499')
    })

    it('delete removes a key; deleting an absent key is not an error', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      await store.put('k', 'v')
      await store.delete('k')
      await store.delete('k')
      expect(await store.get('k')).toBeUndefined()
    })

    it('the JSON codec round-trips objects; a value that does not decode is a StoreError', async () => {
      const store = create<{ n: number; tags: string[] }>({ prefix: prefix(), codec: jsonCodec() })
      await store.put('o', { n: 1, tags: ['x'] })
      expect(await store.get('o')).toEqual({ n: 1, tags: ['x'] })
      const strict: Codec<string> = {
        encode: (v) => v,
        decode: (b) => {
          if (b.toString() === 'corrupt') throw new Error('corrupt value')
          return b.toString()
        },
      }
      const checked = create({ prefix: prefix(), codec: strict })
      await checked.put('bad', 'corrupt')
      await expect(checked.getAll(['bad'])).rejects.toBeInstanceOf(StoreError)
    })

    it('a TTL expires the key', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec, ttlMs: 60_000 })
      // 1.5 s: above the one-second granularity of Cassandra's TTL, and long enough for a loaded
      // machine to read the key back before it expires (100 ms was not, in CI)
      const putAt = Date.now()
      await store.put('short', 'v', { ttlMs: 1500 })
      await store.putAll([['long', 'v']])
      expect(await store.get('short')).toBe('v')
      // gone once its TTL has passed (polled: servers expire keys on their own schedule)
      let gone = false
      while (!gone && Date.now() - putAt < 10_000) {
        await new Promise((r) => setTimeout(r, 100))
        gone = (await store.get('short')) === undefined
      }
      expect(gone).toBe(true)
      expect(Date.now() - putAt).toBeGreaterThanOrEqual(1000)
      expect(await store.get('long')).toBe('v')
    })

    it('flush resolves', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      await store.put('k', 'v')
      await expect(store.flush()).resolves.toBeUndefined()
    })
  })
}

export function multiStoreConformance(name: string, create: MultiStoreFactory) {
  describe(`${name}: MultiStore conformance`, () => {
    it('tenants are isolated, and allTenants lists the tenants touched, sorted', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      await store.tenant('marvel').put('spiderman', 'peter')
      await store.tenant('marvel').put('ironman', 'tony')
      await store.tenant('dc').put('batman', 'bruce')
      await store.tenant('dc').put('superman', 'clark')
      expect([...(await store.tenant('marvel').getAll(['spiderman', 'ironman', 'batman'])).keys()].sort()).toEqual([
        'ironman',
        'spiderman',
      ])
      expect(store.allTenants()).toEqual(['dc', 'marvel'])
    })

    it('fetch reads across tenants; a missing key is absent, not an error; push writes back', async () => {
      const store = create({ prefix: prefix(), codec: stringCodec })
      await store.tenant('marvel').put('spiderman', 'peter')
      await store.tenant('dc').put('batman', 'bruce')
      const fetched = await store.fetch([
        { tenant: 'marvel', key: 'spiderman' },
        { tenant: 'dc', key: 'batman' },
        { tenant: 'dc', key: 'joker' },
      ])
      expect(fetched.size).toBe(2)
      expect(fetched.get('marvel', 'spiderman')).toBe('peter')
      expect(fetched.has('dc', 'joker')).toBe(false)
      fetched.set('dc', 'joker', 'unknown').set('marvel', 'hulk', 'bruce')
      await store.push(fetched)
      expect(await store.tenant('dc').get('joker')).toBe('unknown')
      expect(await store.tenant('marvel').get('hulk')).toBe('bruce')
      await store.push(new TenantMap())
    })
  })
}
