/**
 * twitter-reach: for every tweet, its reach = how many followers its author has at that point.
 *
 * Inputs, co-partitioned by user id (the key of both topics):
 *   twitter-followers  key = followed user, value = {"user","follower","at"} (a follow event)
 *   tweets             key = author,        value = {"id","user","text","at"}
 * Output:
 *   tweet-reach        key = tweet id,      value = {"tweet","user","reach"}
 *
 * State: each user's followers in Redis, follower → time of the follow (one getAll, one putAll per
 * batch). Reach counts the followers whose follow is not later than the tweet (event time), and a
 * follow is merged by keeping the earliest time: both are idempotent, so a replayed batch leaves
 * the same state and re-emits the same reach values.
 */
import type { IncomingMessage, KeyValueStore, MessageProcessor, Sender } from '../../src/index.js'

export interface ReachTopics {
  tweets: string
  followers: string
  reach: string
}

export const TOPICS: ReachTopics = { tweets: 'tweets', followers: 'twitter-followers', reach: 'tweet-reach' }

export interface FollowEvent {
  user: string
  follower: string
  at: number
}
export interface Tweet {
  id: string
  user: string
  text: string
  at: number
}
export interface Reach {
  tweet: string
  user: string
  reach: number
}

/** follower id → time of the (first) follow. */
export type Followers = Record<string, number>

export class ReachProcessor implements MessageProcessor {
  constructor(
    private readonly followers: KeyValueStore<Followers>,
    private readonly topics: ReachTopics = TOPICS,
  ) {}

  async process(messages: readonly IncomingMessage[], sender: Sender): Promise<void> {
    const users = new Set<string>()
    for (const m of messages) if (m.key) users.add(m.key.toString())
    const state = await this.followers.getAll(users)
    const changed = new Set<string>()
    const followersOf = (user: string) => {
      let followers = state.get(user)
      if (!followers) {
        followers = {}
        state.set(user, followers)
      }
      return followers
    }
    for (const m of messages) {
      if (!m.value) continue
      if (m.topic === this.topics.followers) {
        const event = JSON.parse(m.value.toString()) as FollowEvent
        const followers = followersOf(event.user)
        const known = followers[event.follower]
        if (known === undefined || event.at < known) {
          followers[event.follower] = event.at
          changed.add(event.user)
        }
      } else if (m.topic === this.topics.tweets) {
        const tweet = JSON.parse(m.value.toString()) as Tweet
        const reach = Object.values(followersOf(tweet.user)).filter((at) => at <= tweet.at).length
        const out: Reach = { tweet: tweet.id, user: tweet.user, reach }
        sender.send({ topic: this.topics.reach, key: tweet.id, value: JSON.stringify(out) })
      }
    }
    // the one order for state (docs/stores.md): output acked first, then the state write
    await sender.flush()
    await this.followers.putAll([...changed].map((user) => [user, followersOf(user)] as const))
  }
}
