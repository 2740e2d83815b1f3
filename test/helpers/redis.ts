import type { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { createRedisClient } from '../../src/index.js'
import { redisUrl } from './kafka.js'

/** One store client to the test Redis for the whole file, connected before and closed after. */
export function useRedis(): () => Redis {
  let redis: Redis | undefined
  beforeAll(async () => {
    redis = await createRedisClient(redisUrl())
  })
  afterAll(() => redis?.disconnect())
  return () => {
    if (!redis) throw new Error('useRedis(): the client is ready only inside tests')
    return redis
  }
}
