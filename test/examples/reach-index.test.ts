import { describe, expect, it } from 'vitest'
import { ReachIndexProcessor } from '../../examples/reach-index/reach-index-processor.js'
import type { Reach } from '../../examples/twitter-reach/reach-processor.js'
import { ElasticsearchStore, jsonCodec } from '../../src/index.js'
import {
  committedTotal,
  createKafka,
  createTopics,
  openSearchUrl,
  produce,
  uniqueName,
  waitFor,
} from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'

describe('examples/reach-index on the real broker and OpenSearch', () => {
  it('indexes each tweet’s latest reach as a searchable document; a replay writes nothing', async () => {
    const kafka = createKafka()
    const topic = uniqueName('reach-out')
    await createTopics(kafka, [topic], 2)
    // two reach results for t1 (the later one wins), one each for the others
    const results: Reach[] = [
      { tweet: 't1', user: 'user-1', reach: 3 },
      { tweet: 't2', user: 'user-2', reach: 12 },
      { tweet: 't1', user: 'user-1', reach: 4 },
      { tweet: 't3', user: 'user-2', reach: 15 },
    ]
    await produce(
      kafka,
      topic,
      results.map((r) => ({ key: r.tweet, value: JSON.stringify(r), partition: r.tweet === 't2' ? 1 : 0 })),
    )
    const index = uniqueName('tweet-reach')
    const store = () =>
      new ElasticsearchStore<Reach>({
        node: openSearchUrl(),
        index,
        document: 'json',
        codec: jsonCodec(),
        refresh: 'wait_for',
      })
    const run = async () => {
      const name = uniqueName('reach-index')
      const processor = new ReachIndexProcessor(store())
      const { tp, run: loop } = start(
        { topicProcessorName: name, kafka, inputTopics: [topic], inputPartitions: [0, 1], batchSize: 10 },
        processor,
      )
      await waitFor(async () =>
        (await committedTotal(kafka, `kasper-topic-processor-${name}`, topic)) === 4 ? true : undefined,
      )
      await tp.close()
      await loop
      return processor.written
    }
    expect(await run()).toBe(3)
    expect(Object.fromEntries(await store().getAll(['t1', 't2', 't3']))).toEqual({
      t1: { tweet: 't1', user: 'user-1', reach: 4 },
      t2: { tweet: 't2', user: 'user-2', reach: 12 },
      t3: { tweet: 't3', user: 'user-2', reach: 15 },
    })
    // searchable: user-2's tweets that reached more than 10
    const found = (await (
      await fetch(`${openSearchUrl()}/${index}/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: { bool: { filter: [{ term: { 'user.keyword': 'user-2' } }, { range: { reach: { gt: 10 } } }] } },
        }),
      })
    ).json()) as { hits: { hits: { _id: string }[] } }
    expect(found.hits.hits.map((h) => h._id).sort()).toEqual(['t2', 't3'])
    // the whole input again, as after a crash before any commit: every document is already there
    expect(await run()).toBe(0)
  })
})
