import { DURATION_BUCKETS, type MetricsProvider, NoopMetrics } from '../metrics/provider.js'

const byClient = new WeakMap<object, MetricsProvider>()

/**
 * Stores built on `client` without a `metrics` option of their own report to `provider`. The
 * supervisor's job context does this for the client `ctx.redis()` returns, so a job's stores show
 * up in its metrics whether or not the job passes `metrics: ctx.metrics`.
 */
export function setDefaultStoreMetrics(client: object, provider: MetricsProvider): void {
  byClient.set(client, provider)
}

/** The provider set for `client` by setDefaultStoreMetrics, if any. */
export function defaultStoreMetrics(client: object): MetricsProvider | undefined {
  return byClient.get(client)
}

/** Records one store call: count, keys touched, latency; failures by operation. */
export class StoreMetrics {
  readonly #ops
  readonly #keys
  readonly #seconds
  readonly #failures

  constructor(
    private readonly store: string,
    provider: MetricsProvider = new NoopMetrics(),
  ) {
    this.#ops = provider.counter({
      name: 'kasper_store_operations_total',
      help: 'Store calls',
      labelNames: ['store', 'operation'],
    })
    this.#failures = provider.counter({
      name: 'kasper_store_failures_total',
      help: 'Store calls that failed',
      labelNames: ['store', 'operation'],
    })
    this.#keys = provider.histogram({
      name: 'kasper_store_keys_per_call',
      help: 'Keys read or written per store call',
      labelNames: ['store', 'operation'],
      buckets: [1, 10, 100, 1000, 10000, 100000],
    })
    this.#seconds = provider.histogram({
      name: 'kasper_store_operation_duration_seconds',
      help: 'Store call latency',
      labelNames: ['store', 'operation'],
      buckets: DURATION_BUCKETS,
    })
  }

  async time<T>(operation: string, keys: number, call: () => Promise<T>): Promise<T> {
    const labels = { store: this.store, operation }
    const started = performance.now()
    try {
      return await call()
    } catch (error) {
      this.#failures.inc(labels)
      throw error
    } finally {
      this.#ops.inc(labels)
      this.#keys.observe(labels, keys)
      this.#seconds.observe(labels, (performance.now() - started) / 1000)
    }
  }
}
