/**
 * Indexes twitter-reach's output into Elasticsearch or OpenSearch: one searchable document per
 * tweet (`{ tweet, user, reach }`, id = tweet id), so "the tweets of user-7 that reached more than
 * 10 followers" is one query. Per batch: one bulk read of the batch's tweets, one bulk write of
 * the documents whose reach changed. Idempotent: a replayed batch finds its documents already
 * written and writes nothing.
 */
import type { IncomingMessage, KeyValueStore, MessageProcessor } from '../../src/index.js'
import type { Reach } from '../twitter-reach/reach-processor.js'

export class ReachIndexProcessor implements MessageProcessor {
  /** Documents written, over this processor's life (the example's test reads it). */
  written = 0

  constructor(private readonly index: KeyValueStore<Reach>) {}

  async process(messages: readonly IncomingMessage[]): Promise<void> {
    const latest = new Map<string, Reach>()
    for (const m of messages) {
      if (m.value === null) continue
      const reach = JSON.parse(m.value.toString()) as Reach
      latest.set(reach.tweet, { tweet: reach.tweet, user: reach.user, reach: reach.reach })
    }
    const indexed = await this.index.getAll(latest.keys())
    const changed = [...latest].filter(([tweet, doc]) => indexed.get(tweet)?.reach !== doc.reach)
    await this.index.putAll(changed)
    this.written += changed.length
  }
}
