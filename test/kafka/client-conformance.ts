/**
 * The client seam's conformance suite (src/kafka/client.ts): what every Kafka backend must do, run
 * against real brokers. test/kafka/client-conformance.test.ts runs it on the single test broker;
 * test/reliability/cluster-faults.test.ts runs it on the 3-node cluster (replication factor 3,
 * min.insync.replicas 2) with a leader killed between two produces.
 */

import { Kafka, type Kafka as KafkaInstance, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, KasperError } from '../../src/errors.js'
import {
  type ClientConnection,
  FetchOffsetOutOfRange,
  type InputReader,
  type KafkaClient,
  mayRecover,
} from '../../src/kafka/client.js'
import { GenerationCell } from '../../src/kafka/generation.js'
import { tpKey } from '../../src/kafka/topic-partitions.js'
import type { IncomingMessage, OutgoingMessage } from '../../src/types.js'
import { uniqueName } from '../helpers/kafka.js'

export interface ConformanceEnv {
  kafka: KafkaInstance
  createTopics(topics: readonly string[], partitions: number): Promise<void>
  /** Kills the leader of a topic-partition; resolves with a function that starts it again and waits for the replicas. */
  killLeaderOf?(topic: string, partition: number): Promise<() => Promise<void>>
}

export type ClientFactory = (kafka: KafkaInstance, unavailableTimeoutMs: number) => KafkaClient

const READER = { maxWaitMs: 100, maxBytes: 16 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 }

async function readUntil(
  reader: InputReader,
  wanted: readonly { topic: string; partition: number }[],
  count: number,
  timeoutMs = 30_000,
): Promise<IncomingMessage[]> {
  const read: IncomingMessage[] = []
  const deadline = Date.now() + timeoutMs
  while (read.length < count) {
    if (Date.now() > deadline) throw new Error(`read ${read.length} of ${count} messages in ${timeoutMs} ms`)
    for (const f of await reader.fetch(wanted)) read.push(...f.messages.slice())
  }
  return read
}

const outputs = (topic: string, partition: number, n: number, from = 0): OutgoingMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    topic,
    partition,
    key: `k${from + i}`,
    value: `v${from + i}`,
    headers: { n: String(from + i) },
  }))

/** Defines the conformance cases for one backend; `env` is called inside the tests (after beforeAll). */
export function describeClientConformance(
  label: string,
  makeClient: ClientFactory,
  env: () => ConformanceEnv,
  { faults = false }: { faults?: boolean } = {},
): void {
  describe(`client conformance: ${label}`, () => {
    const open = async (topics: readonly string[], unavailableTimeoutMs = 60_000) => {
      const client = makeClient(env().kafka, unavailableTimeoutMs)
      return { client, connection: await client.connect(topics) }
    }
    const closing = async <T>(connection: ClientConnection, body: () => Promise<T>): Promise<T> => {
      try {
        return await body()
      } finally {
        await connection.close()
        await connection.close() // twice: safe
      }
    }

    it('checks the input layout with typed errors', async () => {
      const [a, b, c] = [uniqueName('conf-a'), uniqueName('conf-b'), uniqueName('conf-c')]
      await env().createTopics([a, b], 3)
      await env().createTopics([c], 2)
      const client = makeClient(env().kafka, 60_000)
      expect(await client.checkInputLayout([a, b], [0, 2])).toBe(3)
      const code = (p: Promise<unknown>) =>
        p.then(
          () => 'resolved',
          (e: KasperError) => e.code,
        )
      expect(await code(client.checkInputLayout([a, 'no-such-topic-x'], [0]))).toBe(ErrorCodes.TOPIC_NOT_FOUND)
      expect(await code(client.checkInputLayout([a, c], [0]))).toBe(ErrorCodes.PARTITION_COUNT_MISMATCH)
      expect(await code(client.checkInputLayout([a], [0, 3]))).toBe(ErrorCodes.PARTITION_NOT_FOUND)
    })

    it('writes with acks and reads back every message in order, with keys, headers and log bounds', async () => {
      const topic = uniqueName('conf-rw')
      await env().createTopics([topic], 2)
      const { connection } = await open([topic])
      await closing(connection, async () => {
        await connection.writer.produce([...outputs(topic, 0, 500), ...outputs(topic, 1, 300)])
        const bounds = await connection.logBounds([
          { topic, partition: 0 },
          { topic, partition: 1 },
        ])
        expect(bounds.get(tpKey(topic, 0))).toEqual({ start: '0', end: '500' })
        expect(bounds.get(tpKey(topic, 1))).toEqual({ start: '0', end: '300' })
        const reader = connection.reader(
          [
            { topic, partition: 0, offset: '0' },
            { topic, partition: 1, offset: '100' },
          ],
          { ...READER, unavailableTimeoutMs: 60_000 },
        )
        const read = await readUntil(
          reader,
          [
            { topic, partition: 0 },
            { topic, partition: 1 },
          ],
          700,
        )
        expect(read).toHaveLength(700)
        const p0 = read.filter((m) => m.partition === 0)
        const p1 = read.filter((m) => m.partition === 1)
        expect(p0.map((m) => m.offset)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)))
        expect(p1.map((m) => m.offset)).toEqual(Array.from({ length: 200 }, (_, i) => String(100 + i)))
        expect(p0[7]?.key?.toString()).toBe('k7')
        expect(p0[7]?.value?.toString()).toBe('v7')
        expect(String(p0[7]?.headers.n)).toBe('7')
        expect(reader.position(topic, 0)).toBe('500')
        expect(reader.position(topic, 1)).toBe('300')
        // nothing more: positions stay, an empty round returns no messages
        const more = await reader.fetch([{ topic, partition: 0 }])
        expect(more.flatMap((f) => f.messages.slice())).toEqual([])
        expect(reader.position(topic, 0)).toBe('500')
        // seek back re-reads from there
        reader.seek(topic, 0, '495')
        const again = await readUntil(reader, [{ topic, partition: 0 }], 5)
        expect(again.map((m) => m.value?.toString())).toEqual(['v495', 'v496', 'v497', 'v498', 'v499'])
      })
    })

    it('a batch larger than one produce request is written whole to one partition', async () => {
      const topic = uniqueName('conf-big')
      await env().createTopics([topic], 1)
      const { connection } = await open([topic])
      await closing(connection, async () => {
        const value = Buffer.alloc(1000, 'x')
        const big = Array.from({ length: 20_000 }, (_, i) => ({ topic, partition: 0, key: `k${i}`, value }))
        await connection.writer.produce(big) // ~20 MB: more than one request's limit
        const bounds = await connection.logBounds([{ topic, partition: 0 }])
        expect(bounds.get(tpKey(topic, 0))?.end).toBe('20000')
      })
    })

    it('output to a partition the topic does not have is refused before anything is written', async () => {
      const topic = uniqueName('conf-np')
      await env().createTopics([topic], 2)
      const { connection } = await open([topic])
      await closing(connection, async () => {
        const refused = await connection.writer
          .produce([...outputs(topic, 0, 10), { topic, partition: 2, value: 'nowhere' }])
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        expect(refused).toBeInstanceOf(KasperError)
        expect((refused as KasperError).code).toBe(ErrorCodes.OUTPUT_PARTITION_NOT_FOUND)
        expect((refused as KasperError).retriable).toBe(false)
        // the topic is known now: check() refuses with no I/O
        expect(() => connection.writer.check({ topic, partition: 5, value: 'x' })).toThrow(/partition/)
        expect(() => connection.writer.check({ topic, partition: 1, value: 'x' })).not.toThrow()
        const bounds = await connection.logBounds([{ topic, partition: 0 }])
        expect(bounds.get(tpKey(topic, 0))?.end).toBe('0')
      })
    })

    it('an offset past the log end is FetchOffsetOutOfRange', async () => {
      const topic = uniqueName('conf-oor')
      await env().createTopics([topic], 1)
      const { connection } = await open([topic])
      await closing(connection, async () => {
        await connection.writer.produce(outputs(topic, 0, 3))
        const reader = connection.reader([{ topic, partition: 0, offset: '50' }], {
          ...READER,
          unavailableTimeoutMs: 60_000,
        })
        // the round returns what it read (nothing), the next call throws
        expect(await reader.fetch()).toEqual([])
        const error = await reader.fetch().then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(FetchOffsetOutOfRange)
        expect(error).toMatchObject({ topic, partition: 0, offset: '50' })
      })
    })

    it('reads committed data only by default (aborted transactions skipped); read_uncommitted returns them, never markers', async () => {
      const topic = uniqueName('conf-tx')
      await env().createTopics([topic], 1)
      const producer = env().kafka.producer({
        transactionalId: uniqueName('conf-tx'),
        idempotent: true,
        maxInFlightRequests: 1,
      })
      await producer.connect()
      try {
        for (const [i, outcome] of [
          [0, 'commit'],
          [1, 'abort'],
          [2, 'commit'],
        ] as const) {
          const tx = await producer.transaction()
          await tx.send({
            topic,
            acks: -1,
            messages: [
              { partition: 0, value: `t${i}a` },
              { partition: 0, value: `t${i}b` },
            ],
          })
          await (outcome === 'commit' ? tx.commit() : tx.abort())
        }
      } finally {
        await producer.disconnect()
      }
      const { connection } = await open([topic])
      await closing(connection, async () => {
        const reader = connection.reader([{ topic, partition: 0, offset: '0' }], {
          ...READER,
          unavailableTimeoutMs: 60_000,
        })
        const read = await readUntil(reader, [{ topic, partition: 0 }], 4)
        expect(read.map((m) => m.value?.toString())).toEqual(['t0a', 't0b', 't2a', 't2b'])
        // read_uncommitted: the aborted transaction's records too, never the commit/abort markers
        const everything = connection.reader([{ topic, partition: 0, offset: '0' }], {
          ...READER,
          unavailableTimeoutMs: 60_000,
          isolationLevel: 'read_uncommitted',
        })
        const all = await readUntil(everything, [{ topic, partition: 0 }], 6)
        expect(all.map((m) => m.value?.toString())).toEqual(['t0a', 't0b', 't1a', 't1b', 't2a', 't2b'])
      })
    })

    it('commits offsets and reads them back, with metadata; a dead generation is refused as ASSIGNMENT_LOST', async () => {
      const topic = uniqueName('conf-off')
      await env().createTopics([topic], 2)
      const { connection } = await open([topic])
      await closing(connection, async () => {
        const group = uniqueName('conf-group')
        const offsets = connection.offsets(group)
        const both = [
          { topic, partition: 0 },
          { topic, partition: 1 },
        ]
        expect((await offsets.fetchCommitted(both)).size).toBe(0)
        await offsets.commit([{ topic, partition: 1, offset: '42' }], 'instance-a')
        expect([...(await offsets.fetchCommitted(both))]).toEqual([[tpKey(topic, 1), '42']])
        expect((await offsets.fetchCommittedWithMetadata(both)).get(tpKey(topic, 1))).toEqual({
          offset: '42',
          metadata: 'instance-a',
        })
        // a member whose generation is over and that waits for no other (its cell is closed)
        const gone = new GenerationCell({ generationId: 7, memberId: 'gone-member' })
        gone.close()
        const fenced = connection.offsets(group, gone)
        const refused = await fenced.commit([{ topic, partition: 0, offset: '5' }]).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect((refused as KasperError).code).toBe(ErrorCodes.ASSIGNMENT_LOST)
        expect((await offsets.fetchCommitted(both)).has(tpKey(topic, 0))).toBe(false)
      })
    })

    it('a broker that does not answer fails the connection with an error marked recoverable', async () => {
      const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
      const client = makeClient(kafka, 1000)
      const error = await client.connect(['any']).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(Error)
      expect(mayRecover(error)).toBe(true)
    })

    // a single broker has no second replica to fail over to: only clusters define this one
    if (!faults) return
    it('a killed leader between two produces: output acked, reader continues from its position with no gap', async () => {
      const killLeaderOf = env().killLeaderOf
      if (!killLeaderOf) throw new Error('the environment must define killLeaderOf when faults are on')
      const topic = uniqueName('conf-kill')
      await env().createTopics([topic], 1)
      const { connection } = await open([topic], 120_000)
      await closing(connection, async () => {
        await connection.writer.produce(outputs(topic, 0, 1000))
        const reader = connection.reader([{ topic, partition: 0, offset: '0' }], {
          ...READER,
          unavailableTimeoutMs: 120_000,
        })
        await readUntil(reader, [{ topic, partition: 0 }], 1000)
        const restart = await killLeaderOf(topic, 0)
        await connection.writer.produce(outputs(topic, 0, 1000, 1000))
        const after = await readUntil(reader, [{ topic, partition: 0 }], 1000, 120_000)
        expect(after.map((m) => m.offset)).toEqual(Array.from({ length: 1000 }, (_, i) => String(1000 + i)))
        expect(after[0]?.value?.toString()).toBe('v1000')
        await restart()
      })
    })
  })
}
