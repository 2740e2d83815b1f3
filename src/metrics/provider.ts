/**
 * The metrics contract. Implementations: PrometheusMetrics (prom-client, own registry) and
 * NoopMetrics. Names follow Prometheus conventions (`_total` counters, units in names); every
 * metric kasper-ts registers is listed in docs/metrics.md.
 */
export type Labels = Record<string, string | number>

export interface Counter {
  inc(labels?: Labels, value?: number): void
}

export interface Gauge {
  set(labels: Labels, value: number): void
}

export interface Histogram {
  observe(labels: Labels, value: number): void
}

export interface MetricOptions {
  name: string
  help: string
  labelNames?: readonly string[]
}

export interface HistogramOptions extends MetricOptions {
  buckets?: readonly number[]
}

export interface MetricsProvider {
  /** Get-or-create: asking twice for the same name returns the same metric. */
  counter(options: MetricOptions): Counter
  gauge(options: MetricOptions): Gauge
  histogram(options: HistogramOptions): Histogram
}

const noopMetric: Counter & Gauge & Histogram = { inc() {}, set() {}, observe() {} }

/** Records nothing. The default when no provider is given. */
export class NoopMetrics implements MetricsProvider {
  counter(): Counter {
    return noopMetric
  }
  gauge(): Gauge {
    return noopMetric
  }
  histogram(): Histogram {
    return noopMetric
  }
}

/** Seconds buckets for batch-stage durations: 1 ms to 60 s. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const
