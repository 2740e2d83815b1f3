import client from 'prom-client'
import type { WorkerMetrics } from '../workers/protocol.js'
import { SliceMetrics } from './slice-metrics.js'

/** The supervisor's own metrics, plus the merge of every slice's metrics (with a `slice` label). */
export class SupervisorMetrics {
  readonly registry = new client.Registry()
  readonly workersUp = new client.Gauge({
    name: 'kasper_supervisor_workers_up',
    help: 'Slices running',
    registers: [this.registry],
  })
  readonly slices = new client.Gauge({
    name: 'kasper_supervisor_slices',
    help: 'Slices configured',
    registers: [this.registry],
  })
  readonly failures = new client.Counter({
    name: 'kasper_supervisor_slice_failures_total',
    help: 'Slice failures, by slice and kind (error, exit, out_of_memory)',
    labelNames: ['slice', 'kind'],
    registers: [this.registry],
  })
  readonly restarts = new client.Counter({
    name: 'kasper_supervisor_restarts_total',
    help: 'Slice restarts',
    labelNames: ['slice'],
    registers: [this.registry],
  })
  readonly stalls = new client.Counter({
    name: 'kasper_supervisor_slice_stalls_total',
    help: 'Slices found stalled: input waiting and no batch completed (or no report) for stallTimeoutMs',
    labelNames: ['slice'],
    registers: [this.registry],
  })
  readonly halts = new client.Counter({
    name: 'kasper_supervisor_halts_total',
    help: 'Jobs halted by a failure',
    registers: [this.registry],
  })
  readonly #perSlice = new Map<number, SliceMetrics>()

  constructor() {
    // the supervisor process's own Node metrics (workers report theirs as kasper_worker_*, by slice)
    client.collectDefaultMetrics({ register: this.registry })
  }

  update(slice: number, metrics: WorkerMetrics): void {
    this.#slice(slice).update(metrics)
  }

  /** A slice's worker ended (failed or stopped): its counters carry over to the next run, its gauges go. */
  endRun(slice: number): void {
    this.#slice(slice).endRun()
  }

  #slice(slice: number): SliceMetrics {
    let metrics = this.#perSlice.get(slice)
    if (!metrics) {
      metrics = new SliceMetrics()
      this.#perSlice.set(slice, metrics)
    }
    return metrics
  }

  /** Prometheus text: supervisor metrics and every slice's metrics, labelled by slice. */
  async render(): Promise<string> {
    const withSlice = [...this.#perSlice].map(([slice, sliceMetrics]) =>
      sliceMetrics.snapshot().map((metric) => ({
        ...metric,
        values: metric.values.map((v) => ({ ...v, labels: { ...v.labels, slice: String(slice) } })),
      })),
    )
    const merged = client.AggregatorRegistry.aggregate(
      withSlice as Parameters<typeof client.AggregatorRegistry.aggregate>[0],
    )
    return (await this.registry.metrics()) + (await merged.metrics())
  }
}
