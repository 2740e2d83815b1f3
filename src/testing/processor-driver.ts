/**
 * kasper-ts/testing: run MessageProcessors over batches held in memory, without a broker, the way
 * Kafka Streams' TopologyTestDriver runs a topology. Input is appended per topic-partition (offsets
 * are assigned); each `runBatch()` hands one batch of a partition to its processor through a real
 * Sender (same checks, same seal after process()), records what it sent and flushed, produces it
 * to in-memory output topics and commits the input offsets, as the TopicProcessor does. `replay`
 * and `crashAfterProduce` reproduce what a restart replays, to test idempotency.
 */
import { runProcess } from '../processor/batch-steps.js'
import { BatchSender } from '../sender/sender.js'
import type { IncomingMessage, MessageProcessor, OutgoingMessage, Sender } from '../types.js'

export interface TestInput {
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: Record<string, Buffer | string>
  timestamp?: number
}

export interface DriverOptions {
  /** Most messages per batch, per partition (as the TopicProcessor's batchSize). @defaultValue 1000 */
  batchSize?: number
  /** A process() call longer than this fails the batch. @defaultValue 300000 */
  processTimeoutMs?: number
}

export interface BatchRun {
  partition: number
  /** The batch handed to process(), every input topic of the partition, in arrival order. */
  messages: readonly IncomingMessage[]
  /** Everything process() sent, in order. */
  sent: readonly OutgoingMessage[]
  /** How many messages each `sender.flush()` inside process() produced (the final flush is not counted). */
  flushes: readonly number[]
  /** Next offsets committed for the batch, per topic (absent when the batch was not committed). */
  committed: Readonly<Record<string, string>>
}

const toBuffer = (v: Buffer | string | null | undefined) =>
  v == null ? null : typeof v === 'string' ? Buffer.from(v) : v

/** Drives MessageProcessors over in-memory input: one processor per partition, made by `create`. */
export class ProcessorTestDriver {
  readonly #create: (partition: number) => MessageProcessor | Promise<MessageProcessor>
  readonly #processors = new Map<number, MessageProcessor>()
  readonly #options: Required<DriverOptions>
  /** Appended input per `topic/partition`. */
  readonly #logs = new Map<string, IncomingMessage[]>()
  /** Committed next offset per `topic/partition`. */
  readonly #committed = new Map<string, number>()
  /** Produced output per topic, in produce order. */
  readonly #outputs = new Map<string, OutgoingMessage[]>()
  #last: { partition: number; messages: IncomingMessage[] } | undefined
  /** Arrival order across topics (input() call order), for the partition-wise join's interleaving. */
  readonly #arrival = new WeakMap<IncomingMessage, number>()
  #seq = 0

  constructor(
    create: (partition: number) => MessageProcessor | Promise<MessageProcessor>,
    options: DriverOptions = {},
  ) {
    this.#create = create
    this.#options = { batchSize: options.batchSize ?? 1000, processTimeoutMs: options.processTimeoutMs ?? 300_000 }
  }

  /** Appends messages to an input topic-partition; offsets continue from what is there. */
  input(topic: string, partition: number, messages: readonly TestInput[]): this {
    const key = `${topic}/${partition}`
    const log = this.#logs.get(key) ?? []
    for (const m of messages) {
      const message: IncomingMessage = {
        topic,
        partition,
        offset: String(log.length),
        timestamp: String(m.timestamp ?? Date.now()),
        key: toBuffer(m.key),
        value: toBuffer(m.value),
        headers: m.headers ?? {},
      }
      this.#arrival.set(message, this.#seq++)
      log.push(message)
    }
    this.#logs.set(key, log)
    return this
  }

  /** Messages of a partition (all input topics) after its committed offsets, in the order input() appended them. */
  pending(partition: number): IncomingMessage[] {
    const out: IncomingMessage[] = []
    for (const [key, log] of this.#logs) {
      if (log[0]?.partition !== partition) continue
      out.push(...log.slice(this.#committed.get(key) ?? 0))
    }
    return out.sort((a, b) => (this.#arrival.get(a) ?? 0) - (this.#arrival.get(b) ?? 0))
  }

  /**
   * Runs one batch of `partition`: up to batchSize pending messages, process(), produce what was
   * sent, commit. Rejects (committing nothing) when process() fails or its output is invalid.
   */
  runBatch(partition: number): Promise<BatchRun> {
    return this.#run(partition, this.pending(partition).slice(0, this.#options.batchSize), true)
  }

  /** Runs batches of `partition` until nothing is pending; resolves with each run. */
  async runAll(partition: number): Promise<BatchRun[]> {
    const runs: BatchRun[] = []
    while (this.pending(partition).length > 0) runs.push(await this.runBatch(partition))
    return runs
  }

  /**
   * Runs the next batch of `partition` as far as its produce, then "crashes" before the commit: the
   * output is produced, the offsets stay, so the next runBatch() replays the same messages.
   */
  crashAfterProduce(partition: number): Promise<BatchRun> {
    return this.#run(partition, this.pending(partition).slice(0, this.#options.batchSize), false)
  }

  /** Hands the last batch run to its processor again (what a restart after a lost commit does). */
  replay(): Promise<BatchRun> {
    if (!this.#last) return Promise.reject(new Error('replay(): no batch has run yet'))
    return this.#run(this.#last.partition, this.#last.messages, false)
  }

  /** Everything produced to `topic`, in order (replays included). */
  output(topic: string): readonly OutgoingMessage[] {
    return this.#outputs.get(topic) ?? []
  }

  /** The committed next offset of a topic-partition (0 when nothing was committed). */
  committed(topic: string, partition: number): number {
    return this.#committed.get(`${topic}/${partition}`) ?? 0
  }

  async #processor(partition: number): Promise<MessageProcessor> {
    let processor = this.#processors.get(partition)
    if (!processor) {
      processor = await this.#create(partition)
      this.#processors.set(partition, processor)
    }
    return processor
  }

  async #run(partition: number, messages: IncomingMessage[], commit: boolean): Promise<BatchRun> {
    const sent: OutgoingMessage[] = []
    const flushes: number[] = []
    let inProcess = true
    const sender = new BatchSender(async (out) => {
      for (const m of out) {
        const list = this.#outputs.get(m.topic) ?? []
        list.push(m)
        this.#outputs.set(m.topic, list)
      }
      if (inProcess) flushes.push(out.length)
    })
    const recording: Sender = {
      send: (m: OutgoingMessage) => {
        sender.send(m)
        sent.push(m)
      },
      flush: () => sender.flush(),
      get pending() {
        return sender.pending
      },
    }
    this.#last = { partition, messages }
    const processor = await this.#processor(partition)
    await runProcess(processor, messages, recording, partition, this.#options.processTimeoutMs).finally(() =>
      sender.seal(),
    )
    inProcess = false
    await sender.flush()
    const committed: Record<string, string> = {}
    if (commit) {
      for (const m of messages) committed[m.topic] = String(Number(m.offset) + 1)
      for (const [topic, next] of Object.entries(committed)) this.#committed.set(`${topic}/${partition}`, Number(next))
    }
    return { partition, messages, sent, flushes, committed }
  }
}
