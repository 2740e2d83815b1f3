import { afterAll, describe, it } from 'vitest'
import { createRedisClient, RedisStore, stringCodec } from '../../src/index.js'
import { uniqueName } from '../helpers/kafka.js'
import { PrivateRedis } from '../helpers/redis-server.js'
import { storeOutageScenario } from './store-outage.js'

const server = new PrivateRedis(16391 + (process.pid % 1000))
const clients: { disconnect(): void }[] = []
afterAll(() => {
  for (const c of clients) c.disconnect()
  server.stop()
})

describe('a Redis outage mid-run', () => {
  it('fails the batch with a StoreError cause, commits nothing of it, and a rerun converges to the right state', async () => {
    server.start()
    const prefix = uniqueName('latest')
    await storeOutageScenario({
      prefix: 'outage',
      store: async () => {
        const redis = await createRedisClient(server.url)
        clients.push(redis)
        return new RedisStore<string>({ redis, prefix, codec: stringCodec, timeoutMs: 2000 })
      },
      kill: () => server.kill(),
      restart: () => server.start(),
    })
  })
})
