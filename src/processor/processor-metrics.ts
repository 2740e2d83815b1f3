import {
  type Counter,
  DURATION_BUCKETS,
  type Gauge,
  type Histogram,
  type MetricsProvider,
} from '../metrics/provider.js'

/** The TopicProcessor's metrics (docs/metrics.md lists them all). */
export class ProcessorMetrics {
  readonly incoming: Counter
  readonly outgoing: Counter
  readonly lag: Gauge
  readonly committedOffset: Gauge
  readonly batchSize: Histogram
  readonly processSeconds: Histogram
  readonly produceSeconds: Histogram
  readonly commitSeconds: Histogram
  readonly batchFailures: Counter
  readonly deadLetters: Counter
  readonly processRetries: Counter
  readonly breakerTrips: Counter

  constructor(provider: MetricsProvider) {
    this.incoming = provider.counter({
      name: 'kasper_incoming_messages_total',
      help: 'Messages read from input topic-partitions',
      labelNames: ['topic', 'partition'],
    })
    this.outgoing = provider.counter({
      name: 'kasper_outgoing_messages_total',
      help: 'Messages produced and acknowledged by all in-sync replicas',
      labelNames: ['topic'],
    })
    this.lag = provider.gauge({
      name: 'kasper_messages_behind_high_watermark',
      help: 'High-water mark minus the committed offset, per input topic-partition',
      labelNames: ['topic', 'partition'],
    })
    this.committedOffset = provider.gauge({
      name: 'kasper_committed_offset',
      help: 'Last offset committed (next offset to read) per input topic-partition',
      labelNames: ['topic', 'partition'],
    })
    this.batchSize = provider.histogram({
      name: 'kasper_batch_size_messages',
      help: 'Messages per processed batch',
      labelNames: ['partition'],
      buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 50000],
    })
    this.processSeconds = provider.histogram({
      name: 'kasper_process_duration_seconds',
      help: 'Time spent in MessageProcessor.process per batch',
      labelNames: ['partition'],
      buckets: DURATION_BUCKETS,
    })
    this.produceSeconds = provider.histogram({
      name: 'kasper_produce_duration_seconds',
      help: 'Time to produce a batch output and receive acks from all in-sync replicas',
      labelNames: ['partition'],
      buckets: DURATION_BUCKETS,
    })
    this.commitSeconds = provider.histogram({
      name: 'kasper_commit_duration_seconds',
      help: 'Time to commit a batch input offsets',
      labelNames: ['partition'],
      buckets: DURATION_BUCKETS,
    })
    this.batchFailures = provider.counter({
      name: 'kasper_batch_failures_total',
      help: 'Batches that failed, by stage (process, timeout, produce, commit)',
      labelNames: ['partition', 'stage'],
    })
    this.deadLetters = provider.counter({
      name: 'kasper_dead_letters_total',
      help: "Input messages written to the dead-letter topic (onProcessError 'dead-letter')",
      labelNames: ['topic', 'partition'],
    })
    this.processRetries = provider.counter({
      name: 'kasper_process_retries_total',
      help: "Batches whose process() was retried after failing (onProcessError 'dead-letter')",
      labelNames: ['partition'],
    })
    this.breakerTrips = provider.counter({
      name: 'kasper_dead_letter_breaker_trips_total',
      help: 'Times the dead-letter breaker halted the processor',
      labelNames: ['partition'],
    })
  }
}
