/**
 * applyReassignment on a fake session (pure logic: the order of release and start, what the buffers
 * and the session hold after it, retries while Kafka is unavailable). The broker test is reassign.test.ts.
 */

import { Kafka } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError } from '../../src/errors.js'
import { tpKey } from '../../src/kafka/topic-partitions.js'
import { silentLogger } from '../../src/logging/logger.js'
import { NoopMetrics } from '../../src/metrics/provider.js'
import { resolveTopicProcessorOptions } from '../../src/processor/options.js'
import { PartitionBuffers } from '../../src/processor/partition-buffers.js'
import { ProcessorMetrics } from '../../src/processor/processor-metrics.js'
import { applyReassignment, type ReassignContext } from '../../src/processor/reassignment.js'
import type { Session } from '../../src/processor/session.js'
import type { MessageProcessor } from '../../src/types.js'
import { incoming } from '../helpers/processor.js'

const processor: MessageProcessor = { process() {} }
const msg = (partition: number, offset: number) => incoming('in', partition, offset)

/** A session over `held` of topic 'in', whose Kafka fails the first `failures` layout checks with `error`. */
function fakeSession(held: number[], failures = 0, error: unknown = undefined) {
  const calls: string[] = []
  let failing = failures
  const session = {
    client: {
      name: 'fake',
      async checkInputLayout(_topics: readonly string[], partitions: readonly number[]) {
        calls.push(`check ${partitions.join(',')}`)
        if (failing-- > 0) throw error
        return 8
      },
      async checkTopicsExist() {},
      async connect() {
        throw new Error('not used')
      },
    },
    connection: {
      async logBounds(list: readonly { topic: string; partition: number }[]) {
        return new Map(list.map(({ topic, partition }) => [tpKey(topic, partition), { start: '0', end: '100' }]))
      },
    },
    offsets: {
      async fetchCommitted(list: readonly { topic: string; partition: number }[]) {
        return new Map(list.map(({ topic, partition }) => [tpKey(topic, partition), '40']))
      },
    },
    reader: {
      seek: (topic: string, partition: number, offset: string) => calls.push(`seek ${topic}[${partition}] ${offset}`),
      release: (topic: string, partition: number) => calls.push(`release ${topic}[${partition}]`),
    },
    transactions: undefined,
    processors: new Map(held.map((p) => [p, processor])),
    partitions: held.map((partition) => ({ topic: 'in', partition })),
    committed: new Map(held.map((p) => [tpKey('in', p), '10'])),
    committedByUs: new Set<string>(),
    highWatermarks: new Map(held.map((p) => [tpKey('in', p), '20'])),
  } as unknown as Session
  return { session, calls }
}

function context(session: Session, calls: string[], buffers: PartitionBuffers): ReassignContext {
  const options = resolveTopicProcessorOptions({
    topicProcessorName: 'unit',
    kafka: new Kafka({ brokers: ['127.0.0.1:1'] }),
    inputTopics: ['in'],
    inputPartitions: [0],
    unavailableTimeoutMs: 5000,
  })
  return {
    session,
    buffers,
    metrics: new ProcessorMetrics(new NoopMetrics()),
    options,
    logger: silentLogger,
    source: () => processor,
    settleCommit: async () => {
      calls.push('commit settled')
    },
    stopping: () => false,
  }
}

describe('applyReassignment', () => {
  it('releases after the last commit settled, drops what was read past it, and starts new partitions from their commits', async () => {
    const { session, calls } = fakeSession([0, 1, 2])
    const buffers = new PartitionBuffers([0, 1, 2])
    buffers.push(2, [msg(2, 10), msg(2, 11)], 0)
    const result = await applyReassignment(context(session, calls, buffers), [0, 1, 5])
    expect(result).toEqual({ released: [2], added: [5] })
    expect(calls).toEqual(['commit settled', 'release in[2]', 'check 5', 'seek in[5] 40'])
    expect(buffers.size(2)).toBe(0)
    expect(session.partitions.map((p) => p.partition)).toEqual([0, 1, 5])
    expect([...session.processors.keys()]).toEqual([0, 1, 5])
    expect(session.committed.get(tpKey('in', 2))).toBeUndefined()
    expect(session.committed.get(tpKey('in', 5))).toBe('40')
    // the new partition buffers what is fetched for it
    buffers.push(5, [msg(5, 40)], 0)
    expect(buffers.size(5)).toBe(1)
  })

  it('nothing released: no wait for the commit; the same list again changes nothing', async () => {
    const { session, calls } = fakeSession([0, 1])
    const ctx = context(session, calls, new PartitionBuffers([0, 1]))
    expect(await applyReassignment(ctx, [1, 0])).toEqual({ released: [], added: [] })
    expect(calls).toEqual([])
  })

  it('Kafka unavailable while partitions are added: retried until it answers', async () => {
    const down = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' })
    const { session, calls } = fakeSession([0], 2, down)
    const buffers = new PartitionBuffers([0])
    expect(await applyReassignment(context(session, calls, buffers), [0, 3])).toEqual({ released: [], added: [3] })
    expect(calls.filter((c) => c.startsWith('check'))).toHaveLength(3)
    expect(session.partitions.map((p) => p.partition)).toEqual([0, 3])
  })

  it('a failure no retry cures is thrown typed and leaves the session and buffers as they were', async () => {
    const missing = new KasperError(ErrorCodes.PARTITION_NOT_FOUND, 'in has no partition 9')
    const { session, calls } = fakeSession([0], 1, missing)
    const buffers = new PartitionBuffers([0])
    const error = await applyReassignment(context(session, calls, buffers), [0, 9]).catch((e: unknown) => e)
    expect(KasperError.is(error, ErrorCodes.PARTITION_NOT_FOUND)).toBe(true)
    expect(session.partitions.map((p) => p.partition)).toEqual([0])
    buffers.push(9, [msg(9, 0)], 0)
    expect(buffers.size(9)).toBe(0)
  })
})
