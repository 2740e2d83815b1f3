/**
 * One fix applied to kafkajs 2.2.4 (unmaintained since 2023) when kasper-ts loads.
 *
 * RequestQueue.scheduleCheckPendingRequests schedules its check at `throttledUntil - Date.now()`,
 * which is about minus the current time when the queue was never throttled (`throttledUntil` is
 * -1) and nothing is pending. Node 20 silently treats a negative delay as 1 ms; Node 24 also prints
 * a TimeoutNegativeWarning to stderr, over and over. The patch clamps the delay at 0 and changes
 * nothing else.
 */
import { createRequire } from 'node:module'

interface RequestQueueLike {
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  pending: unknown[]
  checkPendingRequests(): void
}

const CHECK_PENDING_REQUESTS_INTERVAL = 10
const PATCHED = Symbol.for('kasper-ts.kafkajs-request-queue-patched')

export function patchKafkajs(): void {
  const require = createRequire(import.meta.url)
  const RequestQueue = require('kafkajs/src/network/requestQueue') as {
    prototype: RequestQueueLike & { scheduleCheckPendingRequests(): void; [PATCHED]?: boolean }
  }
  const proto = RequestQueue.prototype
  if (proto[PATCHED] || typeof proto.scheduleCheckPendingRequests !== 'function') return
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike) {
    let scheduleAt = this.throttledUntil - Date.now()
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL
      this.throttleCheckTimeoutId = setTimeout(
        () => {
          this.throttleCheckTimeoutId = null
          this.checkPendingRequests()
        },
        Math.max(0, scheduleAt),
      )
    }
  }
  proto[PATCHED] = true
}
