import { describe, expect, it } from 'vitest'
import { SliceMetrics } from '../../supervisor/slice-metrics.js'
import type { WorkerMetrics } from '../../workers/protocol.js'

const run = (messages: number, lag: number, batches: number): WorkerMetrics =>
  [
    {
      name: 'kasper_messages_in_total',
      help: 'in',
      type: 'counter',
      aggregator: 'sum',
      values: [{ value: messages, labels: { topic: 't', partition: 0 } }],
    },
    {
      name: 'kasper_lag',
      help: 'lag',
      type: 'gauge',
      aggregator: 'sum',
      values: [{ value: lag, labels: { topic: 't', partition: 0 } }],
    },
    {
      name: 'kasper_batch_size',
      help: 'size',
      type: 'histogram',
      aggregator: 'sum',
      values: [
        { value: batches, labels: { le: 10, partition: 0 }, metricName: 'kasper_batch_size_bucket' },
        { value: batches, labels: { partition: 0 }, metricName: 'kasper_batch_size_count' },
      ],
    },
  ] as unknown as WorkerMetrics

const metricValue = (metrics: WorkerMetrics, name: string, metricName?: string) =>
  metrics.find((m) => m.name === name)?.values.find((v) => (v as { metricName?: string }).metricName === metricName)
    ?.value

describe('SliceMetrics across worker restarts', () => {
  it('counters and histograms keep counting across a restart; gauges describe the running worker only', () => {
    const slice = new SliceMetrics()
    slice.update(run(100, 7, 3))
    slice.endRun() // the worker failed: its gauges go, its counters stay
    const between = slice.snapshot()
    expect(metricValue(between, 'kasper_messages_in_total')).toBe(100)
    expect(between.find((m) => m.name === 'kasper_lag')).toBeUndefined()
    slice.update(run(5, 2, 1)) // the restarted worker starts from zero
    const after = slice.snapshot()
    expect(metricValue(after, 'kasper_messages_in_total')).toBe(105)
    expect(metricValue(after, 'kasper_batch_size', 'kasper_batch_size_bucket')).toBe(4)
    expect(metricValue(after, 'kasper_batch_size', 'kasper_batch_size_count')).toBe(4)
    expect(metricValue(after, 'kasper_lag')).toBe(2)
  })

  it('a snapshot within one run is the worker’s own', () => {
    const slice = new SliceMetrics()
    slice.update(run(10, 1, 1))
    slice.update(run(20, 0, 2))
    expect(metricValue(slice.snapshot(), 'kasper_messages_in_total')).toBe(20)
  })
})
