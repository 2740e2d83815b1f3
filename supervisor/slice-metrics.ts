/**
 * Each slice's metrics as the supervisor serves them, across restarts of its worker. A worker
 * starts its counters and histograms at zero, so the values of the runs that ended are kept as a
 * base and added to the current run's: what /metrics shows for a slice never goes down. Gauges
 * describe the running worker only: they are dropped when its run ends, until the next run reports.
 */
import type { WorkerMetrics } from '../workers/protocol.js'

type Metric = WorkerMetrics[number]
type Value = Metric['values'][number]

const MONOTONIC = new Set(['counter', 'histogram'])

const valueKey = (metric: Metric, value: Value) => {
  const labels = Object.entries(value.labels ?? {}).sort(([a], [b]) => a.localeCompare(b))
  return `${(value as { metricName?: string }).metricName ?? metric.name}${JSON.stringify(labels)}`
}

export class SliceMetrics {
  /** Counters and histograms of the runs that ended, by metric name. */
  readonly #base = new Map<string, { metric: Metric; values: Map<string, Value> }>()
  #latest: WorkerMetrics = []

  /** The running worker's latest snapshot. */
  update(metrics: WorkerMetrics): void {
    this.#latest = metrics
  }

  /** The worker's run ended (failed, stopped, restarting): fold its counters into the base, drop its gauges. */
  endRun(): void {
    for (const metric of this.#latest) {
      if (!MONOTONIC.has(String(metric.type))) continue
      let entry = this.#base.get(metric.name)
      if (!entry) {
        entry = { metric: { ...metric, values: [] }, values: new Map() }
        this.#base.set(metric.name, entry)
      }
      for (const value of metric.values) {
        const key = valueKey(metric, value)
        const before = entry.values.get(key)
        entry.values.set(key, { ...value, value: (before?.value ?? 0) + value.value })
      }
    }
    this.#latest = []
  }

  /** What to serve: the current run's metrics with the ended runs' counters added. */
  snapshot(): WorkerMetrics {
    const out: WorkerMetrics = []
    const seen = new Set<string>()
    for (const metric of this.#latest) {
      seen.add(metric.name)
      const base = this.#base.get(metric.name)
      if (!base) {
        out.push(metric)
        continue
      }
      const values = new Map(base.values)
      for (const value of metric.values) {
        const key = valueKey(metric, value)
        const before = values.get(key)
        values.set(key, { ...value, value: (before?.value ?? 0) + value.value })
      }
      out.push({ ...metric, values: [...values.values()] })
    }
    for (const [name, { metric, values }] of this.#base) {
      if (!seen.has(name)) out.push({ ...metric, values: [...values.values()] })
    }
    return out
  }
}
