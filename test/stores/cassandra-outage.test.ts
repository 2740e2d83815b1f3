import type { Client } from 'cassandra-driver'
import { afterAll, describe, it } from 'vitest'
import { cassandraSettings, startCassandra, stopCassandra } from '../../scripts/lib/cassandra.mjs'
import { CassandraStore, stringCodec } from '../../src/index.js'
import { cassandraClient, TEST_KEYSPACE, tableOf } from '../helpers/cassandra.js'
import { uniqueName } from '../helpers/kafka.js'
import { storeOutageScenario } from './store-outage.js'

// a node of this test's own, so stopping it disturbs no other test
const settings = cassandraSettings({ CASSANDRA_HOST: `127.0.0.1:${19_442 + (process.pid % 300)}` })
const clients: Client[] = []
afterAll(async () => {
  await Promise.all(clients.map((c) => c.shutdown().catch(() => {})))
  await stopCassandra(settings)
})

describe('a Cassandra outage mid-run', () => {
  it('fails the batch with a StoreError cause, commits nothing of it, and a rerun converges to the right state', async () => {
    await startCassandra({ settings, log: () => {} })
    const table = tableOf(uniqueName('latest'))
    await storeOutageScenario({
      prefix: 'cql-outage',
      store: async () => {
        const client = await cassandraClient(settings.contactPoint, 3000)
        clients.push(client)
        return new CassandraStore({ client, keyspace: TEST_KEYSPACE, table, codec: stringCodec, timeoutMs: 3000 })
      },
      kill: () => stopCassandra(settings, 'SIGKILL'),
      restart: () => startCassandra({ settings, log: () => {} }),
      rerunTimeoutMs: 60_000,
    })
  }, 180_000)
})
