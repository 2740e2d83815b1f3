/**
 * A deterministic sample for twitter-reach: users with a skewed (Zipf-like) follower count, a
 * first wave of follow events, then tweets interleaved with more follows.
 */
import type { Message } from 'kafkajs'
import type { FollowEvent, Tweet } from './reach-processor.js'

export interface SampleOptions {
  users: number
  follows: number
  tweets: number
  seed?: number
}

export interface Sample {
  followers: Message[]
  tweets: Message[]
}

/** mulberry32: a small seeded PRNG, so every run of the demo sees the same data. */
function random(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function generateSample({ users, follows, tweets, seed = 42 }: SampleOptions): Sample {
  const rnd = random(seed)
  const user = (i: number) => `user-${i}`
  // popular users are followed more: index ~ users * r^2
  const popular = () => Math.floor(users * rnd() ** 2)
  const followers: Message[] = []
  const tweetMessages: Message[] = []
  let at = Date.UTC(2026, 10, 25)
  const follow = () => {
    const followed = user(popular())
    const event: FollowEvent = { user: followed, follower: user(Math.floor(rnd() * users)), at: at++ }
    followers.push({ key: followed, value: JSON.stringify(event) })
  }
  const firstWave = Math.floor(follows * 0.8)
  for (let i = 0; i < firstWave; i++) follow()
  for (let i = 0; i < tweets; i++) {
    const author = user(popular())
    const tweet: Tweet = { id: `tweet-${i}`, user: author, text: `hello from ${author} #${i}`, at: at++ }
    tweetMessages.push({ key: author, value: JSON.stringify(tweet) })
    if (rnd() < (follows - firstWave) / tweets) follow()
  }
  return { followers, tweets: tweetMessages }
}
