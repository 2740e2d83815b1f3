export { PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus.js'
export {
  type Counter,
  DURATION_BUCKETS,
  type Gauge,
  type Histogram,
  type HistogramOptions,
  type Labels,
  type MetricOptions,
  type MetricsProvider,
  NoopMetrics,
} from './provider.js'
