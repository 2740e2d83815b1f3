import { createRequire } from 'node:module'
import { afterEach, describe, expect, it, vi } from 'vitest'
import '../../src/kafka/cluster.js' // applies the patch, as every use of kasper-ts does

const require = createRequire(import.meta.url)
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (
  options: object,
) => {
  scheduleCheckPendingRequests(): void
  throttleCheckTimeoutId: NodeJS.Timeout | null
}

afterEach(() => vi.restoreAllMocks())

describe('kafkajs patches', () => {
  it('an idle, never-throttled request queue schedules its check with a delay of 0, not minus the current time', () => {
    const delays: number[] = []
    const real = globalThis.setTimeout
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((_fn: () => void, ms?: number) => {
      delays.push(ms ?? 0)
      return real(() => {}, 0)
    }) as typeof setTimeout)
    const queue = new RequestQueue({
      instrumentationEmitter: null,
      maxInFlightRequests: 1,
      requestTimeout: 1000,
      enforceRequestTimeout: true,
      clientId: 'test',
      broker: 'b:1',
      logger: { namespace: () => ({ debug() {}, info() {}, warn() {}, error() {} }) },
    })
    queue.scheduleCheckPendingRequests()
    expect(delays).toEqual([0])
  })
})
