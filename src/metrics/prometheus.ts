import client from 'prom-client'
import type { Counter, Gauge, Histogram, HistogramOptions, Labels, MetricOptions, MetricsProvider } from './provider.js'

export interface PrometheusMetricsOptions {
  /** Added as a constant `label` label on every metric (Kasper's provider label). */
  label?: string
  /** A registry to register into. @defaultValue a new private Registry */
  registry?: client.Registry
}

/** MetricsProvider on prom-client, with its own Registry (so several processors in one process never collide). */
export class PrometheusMetrics implements MetricsProvider {
  readonly registry: client.Registry

  constructor(options: PrometheusMetricsOptions = {}) {
    this.registry = options.registry ?? new client.Registry()
    if (options.label !== undefined) this.registry.setDefaultLabels({ label: options.label })
  }

  counter(options: MetricOptions): Counter {
    const metric = this.#ensure(options.name, () => new client.Counter({ ...this.#common(options) }))
    return { inc: (labels?: Labels, value = 1) => (labels ? metric.inc(labels, value) : metric.inc(value)) }
  }

  gauge(options: MetricOptions): Gauge {
    const metric = this.#ensure(options.name, () => new client.Gauge({ ...this.#common(options) }))
    return { set: (labels: Labels, value: number) => metric.set(labels, value) }
  }

  histogram(options: HistogramOptions): Histogram {
    const metric = this.#ensure(
      options.name,
      () =>
        new client.Histogram({
          ...this.#common(options),
          ...(options.buckets ? { buckets: [...options.buckets] } : {}),
        }),
    )
    return { observe: (labels: Labels, value: number) => metric.observe(labels, value) }
  }

  /** The text exposition format, for an HTTP /metrics endpoint. */
  metrics(): Promise<string> {
    return this.registry.metrics()
  }

  #common(options: MetricOptions) {
    return {
      name: options.name,
      help: options.help,
      labelNames: [...(options.labelNames ?? [])],
      registers: [this.registry],
    }
  }

  #ensure<M extends client.Metric>(name: string, create: () => M): M {
    return (this.registry.getSingleMetric(name) as M | undefined) ?? create()
  }
}
