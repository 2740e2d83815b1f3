import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { createKafka, createTopics, produce, readTopic, redisUrl, uniqueName } from '../helpers/kafka.js'

describe('test infrastructure', () => {
  it('produces to and consumes from the real broker', async () => {
    const kafka = createKafka()
    const topic = uniqueName('infra')
    await createTopics(kafka, [topic], 2)
    await produce(kafka, topic, [
      { key: 'a', value: '1', partition: 0 },
      { key: 'b', value: '2', partition: 1 },
    ])
    const read = await readTopic(kafka, topic, 2)
    expect(read.map((m) => `${m.partition}:${m.key}=${m.value}`).sort()).toEqual(['0:a=1', '1:b=2'])
  })

  it('writes and reads the real Redis', async () => {
    const redis = new Redis(redisUrl())
    try {
      const key = uniqueName('infra')
      await redis.set(key, 'value', 'EX', 60)
      expect(await redis.get(key)).toBe('value')
      await redis.del(key)
    } finally {
      redis.disconnect()
    }
  })
})
