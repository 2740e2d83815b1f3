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
  readonly rebalances = new client.Counter({
    name: 'kasper_supervisor_rebalances_total',
    help: "Group assignment: this daemon's assignment ended and it rejoined, by reason (rebalance, released, fenced, unreachable, revoked)",
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly rebalanceSeconds = new client.Histogram({
    name: 'kasper_supervisor_rebalance_duration_seconds',
    help: 'Group assignment: from the end of an assignment to the next one running (batches finished, rejoined, slices launched)',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  })
  readonly assignedPartitions = new client.Gauge({
    name: 'kasper_supervisor_assigned_partitions',
    help: "Partitions this daemon reads: the job's share given to it (static) or assigned by the group (group)",
    registers: [this.registry],
  })
  readonly partitionsMoved = new client.Counter({
    name: 'kasper_supervisor_partitions_moved_total',
    help: 'Group assignment: partitions gained or lost by this daemon across rebalances',
    registers: [this.registry],
  })
  readonly generation = new client.Gauge({
    name: 'kasper_supervisor_group_generation',
    help: "Group assignment: the generation of the job's consumer group this daemon joined",
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
