/**
 * The producer's acknowledgement rules, against a fake cluster of several leaders: output is done
 * only when every partition has an ack; what a leader did not acknowledge is sent again.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError } from '../../src/errors.js'
import type { OutputTopicSource } from '../../src/kafka/output-topics.js'
import type { OutputTopicInfo } from '../../src/kafka/produce-plan.js'
import { OutputProducer } from '../../src/kafka/producer.js'
import { silentLogger } from '../../src/logging/logger.js'
import type { OutgoingMessage } from '../../src/types.js'
import { connectionError, FakeCluster, protocolError } from './fake-cluster.js'

class FakeTopics implements OutputTopicSource {
  constructor(private readonly layout: Record<string, OutputTopicInfo>) {}
  known(topic: string) {
    return this.layout[topic]
  }
  async load(topics: Iterable<string>) {
    for (const t of topics) if (!this.layout[t]) throw new Error(`no topic ${t}`)
  }
  get(topic: string) {
    const info = this.layout[topic]
    if (!info) throw new Error(`no topic ${topic}`)
    return info
  }
  async close() {}
}

/** Topic `o` with 3 partitions led by brokers 1, 2, 3. */
function setup(unavailableTimeoutMs = 10_000) {
  const cluster = new FakeCluster()
  for (const p of [0, 1, 2]) cluster.addPartition('o', p, p + 1, [])
  const producer = new OutputProducer(cluster, new FakeTopics({ o: { partitions: 3, maxMessageBytes: 1_048_588 } }), {
    unavailableTimeoutMs,
    logger: silentLogger,
  })
  return { cluster, producer }
}

const outputs = (n: number): OutgoingMessage[] =>
  Array.from({ length: n }, (_, i) => ({ topic: 'o', partition: i % 3, value: `m${i}` }))
const expected = (n: number, p: number) =>
  outputs(n)
    .filter((m) => m.partition === p)
    .map((m) => String(m.value))

describe('OutputProducer', () => {
  it('sends each partition to its leader and resolves once all acked', async () => {
    const { cluster, producer } = setup()
    await producer.produce(outputs(9))
    for (const p of [0, 1, 2]) expect(cluster.produced.get(`o/${p}`)).toEqual(expected(9, p))
    expect(cluster.produceRequests).toBe(3)
  })

  it('a leader that moved (NOT_LEADER_OR_FOLLOWER) gets its partitions re-sent to the new leader, others not twice', async () => {
    const { cluster, producer } = setup()
    cluster.moveLeader('o', 1, 3) // broker 2 still believed leader of o[1] until metadata is refreshed
    await producer.produce(outputs(9))
    for (const p of [0, 1, 2]) expect(cluster.produced.get(`o/${p}`)).toEqual(expected(9, p))
    expect(cluster.refreshes).toBeGreaterThanOrEqual(1)
  })

  it('a partition missing from an ack is sent again, never assumed written', async () => {
    const { cluster, producer } = setup()
    let dropped = false
    cluster.produceHooks.set(1, (request, answer) => {
      const response = answer(request)
      if (dropped) return response
      dropped = true
      // the broker acknowledged nothing for o[0] (as a kafkajs retry skipping a partition would look)
      cluster.produced.set('o/0', [])
      return { topics: [] }
    })
    await producer.produce(outputs(6))
    expect(cluster.produced.get('o/0')).toEqual(expected(6, 0))
  })

  it('a connection failure at one leader re-sends only that leader’s partitions', async () => {
    const { cluster, producer } = setup()
    let failures = 0
    cluster.produceHooks.set(3, (request, answer) => {
      if (failures++ < 2) throw connectionError('127.0.0.1', 9096)
      return answer(request)
    })
    await producer.produce(outputs(9))
    for (const p of [0, 1, 2]) expect(cluster.produced.get(`o/${p}`)).toEqual(expected(9, p))
    expect(failures).toBe(3)
  })

  it('an error no retry cures fails the produce at once', async () => {
    const { cluster, producer } = setup()
    cluster.produceHooks.set(2, () => {
      throw protocolError('TOPIC_AUTHORIZATION_FAILED')
    })
    const error = await producer.produce(outputs(3)).catch((e: unknown) => e)
    expect((error as { type?: string }).type).toBe('TOPIC_AUTHORIZATION_FAILED')
  })

  it('leadership errors that outlast unavailableTimeoutMs fail with PRODUCE_FAILED naming the partitions', async () => {
    const { cluster, producer } = setup(300)
    cluster.produceHooks.set(2, () => {
      throw protocolError('NOT_ENOUGH_REPLICAS')
    })
    const error = await producer.produce(outputs(3)).catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.PRODUCE_FAILED)).toBe(true)
    expect((error as Error).message).toMatch(/no acknowledgement for o\[1\] within unavailableTimeoutMs \(300 ms\)/)
    expect((error as KasperError).retriable).toBe(true)
  })

  it('a partition with no known leader waits for metadata that names one', async () => {
    const { cluster, producer } = setup()
    cluster.known.delete('o/2')
    await producer.produce(outputs(6))
    expect(cluster.produced.get('o/2')).toEqual(expected(6, 2))
  })
})
