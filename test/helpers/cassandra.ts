import { Client } from 'cassandra-driver'
import { afterAll, beforeAll } from 'vitest'
import { cassandraContactPoint } from './kafka.js'

export const TEST_KEYSPACE = 'kasper_test'

/** A client to `contactPoint` with the keyspace the tests use, created if missing. */
export async function cassandraClient(contactPoint: string, timeoutMs = 10_000): Promise<Client> {
  const client = new Client({
    contactPoints: [contactPoint],
    localDataCenter: 'datacenter1',
    socketOptions: { readTimeout: timeoutMs, connectTimeout: 5000 },
  })
  await client.connect()
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${TEST_KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  )
  return client
}

/** One client to the test Cassandra for the whole file, connected before and shut down after. */
export function useCassandra(): () => Client {
  let client: Client | undefined
  beforeAll(async () => {
    client = await cassandraClient(cassandraContactPoint())
  }, 60_000)
  afterAll(() => client?.shutdown())
  return () => {
    if (!client) throw new Error('useCassandra(): the client is ready only inside tests')
    return client
  }
}

/** A table name from a conformance prefix (CQL identifiers: a-z, 0-9, _). */
export const tableOf = (prefix: string) => `t_${prefix.toLowerCase().replace(/[^a-z0-9]/g, '_')}`.slice(0, 48)
