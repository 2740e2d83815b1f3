import type { MessageRun } from '../kafka/record-run.js'
import type { IncomingMessage } from '../types.js'

/** Wakes a waiting loop: `wait(ms)` resolves on `notify()` or after `ms`, whichever comes first. */
export class Notifier {
  #waiters: (() => void)[] = []

  notify(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(
        () => {
          this.#waiters = this.#waiters.filter((w) => w !== wake)
          resolve()
        },
        Math.max(0, timeoutMs),
      )
      this.#waiters.push(wake)
    })
  }

  /** Waiters not yet woken (for tests: a timed-out wait leaves nothing behind). */
  get waiting(): number {
    return this.#waiters.length
  }
}

interface Pending {
  /** Fetched runs in arrival order; `head` of the first is where its untaken messages start. */
  runs: MessageRun[]
  head: number
  size: number
  /** When the oldest pending message arrived: the batch-wait clock starts then. */
  since: number
}

/**
 * Per partition, the messages of every input topic in arrival order (partition-wise join; order
 * kept within each topic-partition because each topic-partition is appended in offset order).
 * Fetched runs are kept as they came (record-run.ts); message objects are made by take().
 */
export class PartitionBuffers {
  readonly #pending = new Map<number, Pending>()

  constructor(partitions: readonly number[]) {
    for (const p of partitions) this.#pending.set(p, { runs: [], head: 0, size: 0, since: 0 })
  }

  /** Starts buffering a partition (one a rebalance gave this processor). */
  add(partition: number): void {
    if (!this.#pending.has(partition)) this.#pending.set(partition, { runs: [], head: 0, size: 0, since: 0 })
  }

  /** Stops buffering a partition and drops what waits in it (uncommitted: its next owner reads it again); returns how many. */
  remove(partition: number): number {
    const dropped = this.size(partition)
    this.#pending.delete(partition)
    return dropped
  }

  push(partition: number, messages: MessageRun, now: number): void {
    const pending = this.#pending.get(partition)
    if (!pending || messages.length === 0) return
    if (pending.size === 0) pending.since = now
    pending.runs.push(messages)
    pending.size += messages.length
  }

  size(partition: number): number {
    return this.#pending.get(partition)?.size ?? 0
  }

  /** Messages waiting in every partition. */
  get total(): number {
    let total = 0
    for (const pending of this.#pending.values()) total += pending.size
    return total
  }

  /** Removes and returns up to `max` messages, oldest first. */
  take(partition: number, max: number, now: number): IncomingMessage[] {
    const pending = this.#pending.get(partition)
    if (!pending) return []
    let batch: IncomingMessage[] | undefined
    while (pending.runs.length > 0 && (batch?.length ?? 0) < max) {
      const run = pending.runs[0] as MessageRun
      const end = Math.min(run.length, pending.head + max - (batch?.length ?? 0))
      const part = run.slice(pending.head, end)
      if (batch === undefined) batch = part
      else for (const m of part) batch.push(m)
      pending.head = end
      if (end === run.length) {
        pending.runs.shift()
        pending.head = 0
      }
    }
    const taken = batch ?? []
    pending.size -= taken.length
    // What stays behind starts a new wait from now: it was read during the batch just taken.
    if (pending.size > 0) pending.since = now
    return taken
  }

  /**
   * The partition whose batch is due: full (`batchSize`) or waited `batchWaitMs`. Partitions are
   * scanned round-robin from `after`, so a busy partition cannot starve the others.
   */
  due(batchSize: number, batchWaitMs: number, now: number, after: number | undefined): number | undefined {
    const order = [...this.#pending.keys()]
    const start = after === undefined ? 0 : order.indexOf(after) + 1
    for (let i = 0; i < order.length; i++) {
      const partition = order[(start + i) % order.length] as number
      const size = this.size(partition)
      if (size === 0) continue
      const pending = this.#pending.get(partition) as Pending
      if (size >= batchSize || now - pending.since >= batchWaitMs) return partition
    }
    return undefined
  }

  /** Milliseconds until the earliest partial batch is due; undefined when nothing is pending. */
  nextDeadline(batchWaitMs: number, now: number): number | undefined {
    let next: number | undefined
    for (const [partition, pending] of this.#pending) {
      if (this.size(partition) === 0) continue
      const left = pending.since + batchWaitMs - now
      next = next === undefined ? left : Math.min(next, left)
    }
    return next
  }
}
