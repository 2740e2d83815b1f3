/**
 * The dead-letter policy (`onProcessError: 'dead-letter'`): when process() fails for a batch, the
 * batch is retried with back-off; if it still fails, it is split in halves (and halves of halves)
 * until the messages that fail on their own are found; those become dead letters (written to the
 * dead-letter topic with their coordinates and error in headers), the rest's output is kept. The
 * caller then produces everything (output and dead letters, acked by all in-sync replicas) and only
 * then commits, so nothing disappears. A breaker halts the processor instead of draining its input
 * into the dead-letter topic.
 */
import { ErrorCodes, KasperError, OutputError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { IncomingMessage, OutgoingMessage } from '../types.js'
import type { ProcessorMetrics } from './processor-metrics.js'

export interface DeadLetterSettings {
  topic: string
  retries: number
  retryBackoffMs: number
  maxDeadLetters: number
  maxDeadLetterRatio: number
  windowMs: number
}

/** Header names a dead letter carries besides the original message's own headers. */
export const DeadLetterHeaders = {
  SOURCE_TOPIC: 'kasper.dlq.source.topic',
  SOURCE_PARTITION: 'kasper.dlq.source.partition',
  SOURCE_OFFSET: 'kasper.dlq.source.offset',
  SOURCE_TIMESTAMP: 'kasper.dlq.source.timestamp',
  ERROR_CODE: 'kasper.dlq.error.code',
  ERROR_MESSAGE: 'kasper.dlq.error.message',
  ATTEMPTS: 'kasper.dlq.attempts',
  PROCESSOR: 'kasper.dlq.processor',
} as const

/** Below this many messages in the window, the ratio rule does not apply (one failure of two is not a trend). */
export const RATIO_MIN_MESSAGES = 100

/** One run of process() over some messages: resolves with the output it queued, or rejects. */
export type Attempt = (messages: readonly IncomingMessage[]) => Promise<OutgoingMessage[]>

interface DeadLetter {
  message: IncomingMessage
  error: unknown
  attempts: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits `ms`, or less once `stopping()` turns true: a closing processor finishes its batch without the back-off. */
async function backOff(ms: number, stopping: () => boolean): Promise<void> {
  const until = Date.now() + ms
  while (!stopping() && Date.now() < until) await sleep(Math.min(100, until - Date.now()))
}

/** An error the policy must not turn into dead letters: the job's own output mistakes, and the breaker. */
const isFatal = (error: unknown) => error instanceof OutputError

export class DeadLetterPolicy {
  /** Per batch that had dead letters or messages: [time, messages, deadLetters], oldest first. */
  readonly #window: [number, number, number][] = []

  constructor(
    readonly settings: DeadLetterSettings,
    private readonly processorName: string,
    private readonly metrics: ProcessorMetrics,
    private readonly logger: Logger,
    private readonly stopping: () => boolean = () => false,
  ) {}

  /**
   * Runs `attempt` over the batch under the policy. Resolves with the output to produce: the output
   * of every part that succeeded, in input order, then the dead letters. Rejects with an OutputError
   * (the job's own mistake, as under 'fail') or KASPER_DEAD_LETTER_BREAKER; nothing of the batch is
   * produced by this call either way.
   */
  async run(partition: number, messages: readonly IncomingMessage[], attempt: Attempt): Promise<OutgoingMessage[]> {
    const { retries, retryBackoffMs } = this.settings
    let lastError: unknown
    for (let tried = 0; tried <= retries; tried++) {
      if (tried > 0) {
        this.metrics.processRetries.inc({ partition })
        await backOff(retryBackoffMs * 2 ** (tried - 1), this.stopping)
      }
      try {
        const output = await attempt(messages)
        this.#record(messages.length, 0)
        return output
      } catch (error) {
        if (isFatal(error)) throw error
        lastError = error
      }
    }
    const output: OutgoingMessage[] = []
    const dead: DeadLetter[] = []
    if (messages.length === 1) {
      dead.push({ message: messages[0] as IncomingMessage, error: lastError, attempts: retries + 1 })
    } else {
      const half = Math.ceil(messages.length / 2)
      await this.#bisect(messages.slice(0, half), attempt, retries + 2, output, dead)
      await this.#bisect(messages.slice(half), attempt, retries + 2, output, dead)
    }
    this.#record(messages.length, dead.length)
    this.#checkBreaker(partition, dead.length)
    for (const d of dead) {
      const { topic, offset } = d.message
      this.logger.warn(
        { topic, partition, offset, attempts: d.attempts, err: summary(d.error), deadLetterTopic: this.settings.topic },
        'message dead-lettered: process() failed on it alone',
      )
      this.metrics.deadLetters.inc({ topic, partition })
      output.push(this.#letter(d))
    }
    return output
  }

  async #bisect(
    messages: readonly IncomingMessage[],
    attempt: Attempt,
    attempts: number,
    output: OutgoingMessage[],
    dead: DeadLetter[],
  ): Promise<void> {
    try {
      output.push(...(await attempt(messages)))
      return
    } catch (error) {
      if (isFatal(error)) throw error
      if (messages.length === 1) {
        dead.push({ message: messages[0] as IncomingMessage, error, attempts })
        return
      }
    }
    const half = Math.ceil(messages.length / 2)
    await this.#bisect(messages.slice(0, half), attempt, attempts + 1, output, dead)
    await this.#bisect(messages.slice(half), attempt, attempts + 1, output, dead)
  }

  #record(messages: number, deadLetters: number): void {
    const now = Date.now()
    this.#window.push([now, messages, deadLetters])
    while (this.#window.length > 0 && (this.#window[0] as [number, number, number])[0] < now - this.settings.windowMs) {
      this.#window.shift()
    }
  }

  /** Trips when the window holds more dead letters than allowed, in number or in share of its messages. */
  #checkBreaker(partition: number, deadInBatch: number): void {
    if (deadInBatch === 0) return
    let messages = 0
    let deadLetters = 0
    for (const [, m, d] of this.#window) {
      messages += m
      deadLetters += d
    }
    const { maxDeadLetters, maxDeadLetterRatio, windowMs } = this.settings
    const overCount = deadLetters > maxDeadLetters
    const overRatio = messages >= RATIO_MIN_MESSAGES && deadLetters / messages > maxDeadLetterRatio
    if (!overCount && !overRatio) return
    this.metrics.breakerTrips.inc({ partition })
    throw new KasperError(
      ErrorCodes.DEAD_LETTER_BREAKER,
      `dead-letter breaker tripped on partition ${partition}: ${deadLetters} of ${messages} messages failed within ` +
        `${windowMs} ms (limits: deadLetter.maxDeadLetters ${maxDeadLetters}, deadLetter.maxDeadLetterRatio ` +
        `${maxDeadLetterRatio}); the batch was neither produced nor committed: fix the job or its input, then restart`,
      { retriable: false },
    )
  }

  #letter({ message, error, attempts }: DeadLetter): OutgoingMessage {
    const headers: Record<string, Buffer | string> = {}
    for (const [name, value] of Object.entries(message.headers)) if (value !== undefined) headers[name] = value
    const { code, text } = summary(error)
    headers[DeadLetterHeaders.SOURCE_TOPIC] = message.topic
    headers[DeadLetterHeaders.SOURCE_PARTITION] = String(message.partition)
    headers[DeadLetterHeaders.SOURCE_OFFSET] = message.offset
    headers[DeadLetterHeaders.SOURCE_TIMESTAMP] = message.timestamp
    headers[DeadLetterHeaders.ERROR_CODE] = code
    headers[DeadLetterHeaders.ERROR_MESSAGE] = text
    headers[DeadLetterHeaders.ATTEMPTS] = String(attempts)
    headers[DeadLetterHeaders.PROCESSOR] = this.processorName
    return { topic: this.settings.topic, key: message.key, value: message.value, headers }
  }
}

/** An error's code and message, bounded: never the message's value. */
function summary(error: unknown): { code: string; text: string } {
  const code = KasperError.isKasperError(error)
    ? error.code
    : ((error as { code?: unknown } | null)?.code?.toString() ?? (error as Error | null)?.name ?? 'Error')
  const raw = error instanceof Error ? error.message : String(error)
  return { code: String(code), text: raw.length > 1000 ? `${raw.slice(0, 1000)}…` : raw }
}
