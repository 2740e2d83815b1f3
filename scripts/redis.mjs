#!/usr/bin/env node
// npm run redis:up: make sure a Redis answers on REDIS_URL (default redis://127.0.0.1:6379).
import { startRedis } from './lib/redis.mjs'

try {
  const { url, started } = await startRedis()
  console.error(started ? `kasper: started Redis on ${url}` : `kasper: reusing Redis on ${url}`)
  console.log(url)
} catch (error) {
  console.error(`kasper: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
