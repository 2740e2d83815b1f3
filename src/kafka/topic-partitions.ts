/** Topic-partition helpers shared by the reader, the offsets, the producer and the loop. */

export interface TopicPartition {
  topic: string
  partition: number
}

/** A map key for a topic-partition (NUL cannot appear in a topic name). */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/** The topic-partition a tpKey names. */
export function parseTpKey(key: string): TopicPartition {
  const at = key.lastIndexOf('\u0000')
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) }
}

/** Every partition of every topic, partition-major (the order the processor reads them in). */
export function topicPartitions(topics: readonly string[], partitions: readonly number[]): TopicPartition[] {
  return partitions.flatMap((partition) => topics.map((topic) => ({ topic, partition })))
}

/** Items grouped by topic, topics in first-seen order, items in input order. */
export function groupByTopic<T extends { topic: string }>(items: readonly T[]): [string, T[]][] {
  const byTopic = new Map<string, T[]>()
  for (const item of items) {
    const list = byTopic.get(item.topic)
    if (list) list.push(item)
    else byTopic.set(item.topic, [item])
  }
  return [...byTopic.entries()]
}
