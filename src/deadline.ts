/**
 * `work`, or a rejection with `onTimeout()`'s error once `ms` passed without its answer. The timer
 * is cleared either way; an answer (or failure) of `work` after the deadline is ignored.
 * Used where a call must not wait past a limit of ours: a store's round trip, process(), a heartbeat.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(ms, 0))
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
