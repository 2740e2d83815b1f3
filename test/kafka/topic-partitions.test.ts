import { describe, expect, it } from 'vitest'
import { groupByTopic, parseTpKey, topicPartitions, tpKey } from '../../src/kafka/topic-partitions.js'

describe('topic-partition helpers', () => {
  it('tpKey and parseTpKey round-trip, dots and dashes in names included', () => {
    for (const [topic, partition] of [
      ['tweets', 0],
      ['twitter.followers-v2', 11],
    ] as const) {
      expect(parseTpKey(tpKey(topic, partition))).toEqual({ topic, partition })
    }
  })

  it('topicPartitions is partition-major; groupByTopic keeps first-seen order', () => {
    expect(topicPartitions(['a', 'b'], [0, 1])).toEqual([
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 1 },
    ])
    expect(
      groupByTopic([
        { topic: 'b', n: 1 },
        { topic: 'a', n: 2 },
        { topic: 'b', n: 3 },
      ]),
    ).toEqual([
      [
        'b',
        [
          { topic: 'b', n: 1 },
          { topic: 'b', n: 3 },
        ],
      ],
      ['a', [{ topic: 'a', n: 2 }]],
    ])
  })
})
