import { describe, expect, it } from 'vitest'
import { toolOutput } from '../../scripts/lib/broker.mjs'
import { createCluster, type KafkaCluster } from '../../src/kafka/cluster.js'
import { fetchLogBounds, GroupOffsets } from '../../src/kafka/offsets.js'
import { tpKey } from '../../src/kafka/topic-partitions.js'
import type { TransactionalBroker } from '../../src/kafka/transactions.js'
import { brokers, createKafka, createTopics, produce, uniqueName } from '../helpers/kafka.js'

describe('GroupOffsets (commits without group membership) on the real broker', () => {
  it('commits next-offsets that Kafka’s own kafka-consumer-groups --describe shows, and reads them back', async () => {
    const kafka = createKafka()
    const topic = uniqueName('offsets')
    await createTopics(kafka, [topic], 2)
    await produce(kafka, topic, [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ])
    const cluster = createCluster(kafka)
    await cluster.connect()
    try {
      const groupId = `kasper-topic-processor-${uniqueName('describe')}`
      const offsets = new GroupOffsets(cluster, groupId)
      const partitions = [
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]
      expect((await offsets.fetchCommitted(partitions)).size).toBe(0)
      await offsets.commit([
        { topic, partition: 0, offset: '2' },
        { topic, partition: 1, offset: '1' },
      ])
      const committed = await offsets.fetchCommitted(partitions)
      expect(committed.get(tpKey(topic, 0))).toBe('2')
      expect(committed.get(tpKey(topic, 1))).toBe('1')
      const bounds = await fetchLogBounds(cluster, partitions)
      expect(bounds.get(tpKey(topic, 0))).toEqual({ start: '0', end: '2' })

      const described = toolOutput('kafka-consumer-groups', [
        '--bootstrap-server',
        brokers()[0] as string,
        '--describe',
        '--group',
        groupId,
      ])
      expect(described.status).toBe(0)
      const rows = described.stdout
        .split('\n')
        .filter((line) => line.includes(topic))
        .map((line) => line.trim().split(/\s+/).slice(0, 6))
      // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
      expect(rows.sort()).toEqual([
        [groupId, topic, '0', '2', '2', '0'],
        [groupId, topic, '1', '1', '1', '0'],
      ])
    } finally {
      await cluster.disconnect()
    }
  })

  // A transaction holding offsets for the group, left open: TxnOffsetCommit sent, EndTxn not yet.
  async function openOffsetTransaction(cluster: KafkaCluster, groupId: string, topic: string, offset: string) {
    const transactionalId = uniqueName('txn')
    const txn = (await cluster.findGroupCoordinator({
      groupId: transactionalId,
      coordinatorType: 1,
    })) as TransactionalBroker
    const { producerId, producerEpoch } = await txn.initProducerId({ transactionalId, transactionTimeout: 60_000 })
    const ids = { transactionalId, producerId, producerEpoch }
    await txn.addOffsetsToTxn({ ...ids, groupId })
    const group = (await cluster.findGroupCoordinator({ groupId })) as TransactionalBroker
    await group.txnOffsetCommit({
      ...ids,
      groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset, metadata: null }] }],
    })
    return { end: (commit: boolean) => txn.endTxn({ ...ids, transactionResult: commit }) }
  }

  for (const commit of [true, false]) {
    it(`reads offsets of a transaction only once it has ended (require_stable): ${commit ? 'committed, the new offset' : 'aborted, the old one'}`, async () => {
      const kafka = createKafka()
      const topic = uniqueName('stable')
      await createTopics(kafka, [topic], 1)
      const cluster = createCluster(kafka)
      await cluster.connect()
      try {
        const groupId = `kasper-topic-processor-${uniqueName('stable')}`
        const offsets = new GroupOffsets(cluster, groupId)
        await offsets.commit([{ topic, partition: 0, offset: '5' }])
        const txn = await openOffsetTransaction(cluster, groupId, topic, '9')
        let ended = false
        const reading = offsets
          .fetchCommitted([{ topic, partition: 0 }])
          .then((m) => ({ offset: m.get(tpKey(topic, 0)), ended }))
        // the transaction stays open a while: a read that does not wait for it answers '5' meanwhile
        await new Promise((r) => setTimeout(r, 700))
        ended = true
        await txn.end(commit)
        expect(await reading).toEqual({ offset: commit ? '9' : '5', ended: true })
      } finally {
        await cluster.disconnect()
      }
    })
  }

  it('a Kafka instance that is not kafkajs 2.x is refused with a clear TypeError', () => {
    expect(() => createCluster({} as never)).toThrow(/kafkajs 2\.x Kafka instance/)
  })
})
