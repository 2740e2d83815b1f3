/**
 * word-count: input `words` (key = value = one word, so a word always lands on the same partition);
 * output `word-counts` (key = word, value = "<word> has been seen <n> times", n counting this one).
 *
 * Counting is not naturally idempotent (a replay would count twice), so each word's state keeps the
 * offset of the last message applied, and a replayed message (offset ≤ that) is not counted again.
 * The order makes this safe: the outputs are produced (sender.flush(), acked) *before* the state is
 * written. A crash before the state write replays with the old state and re-emits identical
 * outputs; a crash after it skips messages whose outputs were already acked. One getAll and one
 * putAll per batch.
 */
import type { IncomingMessage, KeyValueStore, MessageProcessor, Sender } from '../../src/index.js'

export interface WordState {
  count: number
  /** Offset of the last input applied, as a decimal string (per word, so per partition). */
  offset: string
}

export class WordCountProcessor implements MessageProcessor {
  constructor(
    private readonly counts: KeyValueStore<WordState>,
    private readonly output = 'word-counts',
  ) {}

  async process(messages: readonly IncomingMessage[], sender: Sender): Promise<void> {
    const words = new Set<string>()
    for (const m of messages) if (m.value) words.add(m.value.toString())
    const state = await this.counts.getAll(words)
    for (const m of messages) {
      if (!m.value) continue
      const word = m.value.toString()
      const current = state.get(word) ?? { count: 0, offset: '-1' }
      if (BigInt(m.offset) <= BigInt(current.offset)) continue // applied before this replay: already counted and emitted
      const next = { count: current.count + 1, offset: m.offset }
      state.set(word, next)
      sender.send({ topic: this.output, key: word, value: `${word} has been seen ${next.count} times` })
    }
    await sender.flush()
    await this.counts.putAll(state)
  }
}
