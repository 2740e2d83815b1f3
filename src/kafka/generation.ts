/**
 * A group member's current generation, as the commits of its slices read it. Under cooperative
 * rebalancing the partitions a member keeps run on through a rebalance: their commits meet a
 * coordinator that is between generations (REBALANCE_IN_PROGRESS) or that has moved to the next one
 * (ILLEGAL_GENERATION). Such a commit waits here for the generation the member joins next, then is
 * sent again with it; the coordinator hands a partition to another member only after its owner gave
 * it up (after that commit), so the retry commits nothing a newer owner has read.
 */
export interface MemberGeneration {
  generationId: number
  memberId: string
}

export class GenerationCell {
  #current: MemberGeneration
  #waiters: { after: number; wake: (generation: MemberGeneration | undefined) => void }[] = []
  #closed = false

  constructor(initial: MemberGeneration) {
    this.#current = initial
  }

  get current(): MemberGeneration {
    return this.#current
  }

  /** The member joined a newer generation: commits waiting for one are sent again with it. */
  set(generation: MemberGeneration): void {
    if (generation.generationId < this.#current.generationId) return
    this.#current = generation
    const [woken, waiting] = partition(this.#waiters, (w) => generation.generationId > w.after)
    this.#waiters = waiting
    for (const w of woken) w.wake(generation)
  }

  /** No generation will follow (the member lost its partitions, or the processor is closing): waits end now. */
  close(): void {
    this.#closed = true
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.wake(undefined)
  }

  /**
   * Resolves with a generation newer than `after`, or undefined when none comes within `timeoutMs`
   * or the cell is closed.
   */
  newer(after: number, timeoutMs: number): Promise<MemberGeneration | undefined> {
    if (this.#current.generationId > after) return Promise.resolve(this.#current)
    if (this.#closed) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const waiter = {
        after,
        wake: (generation: MemberGeneration | undefined) => {
          clearTimeout(timer)
          resolve(generation)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        resolve(undefined)
      }, timeoutMs)
      this.#waiters.push(waiter)
    })
  }
}

function partition<T>(list: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = []
  const no: T[] = []
  for (const item of list) (test(item) ? yes : no).push(item)
  return [yes, no]
}
