/**
 * Brings up the real infrastructure once per test run: a Kafka broker (unless KAFKA_BROKERS names
 * one), Redis, an OpenSearch node and a Cassandra node (the stores' servers). Stops at the end what it
 * started. When the broker cannot start (no Java 17, no Maven), fails with one line that says what
 * is missing.
 */
import type { TestProject } from 'vitest/node'
import { checkPrerequisites, startBroker, stopBroker } from '../../scripts/lib/broker.mjs'
import { startCassandra, stopCassandra } from '../../scripts/lib/cassandra.mjs'
import { startOpenSearch, stopOpenSearch } from '../../scripts/lib/opensearch.mjs'
import { startRedis, stopRedis } from '../../scripts/lib/redis.mjs'
import { patchKafkajs } from '../../src/kafka/kafkajs-patches.js'

// the broker checks use kafkajs in this process too: without the patch Node 24 warns (TimeoutNegativeWarning)
patchKafkajs()

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[]
    redisUrl: string
    openSearchUrl: string
    cassandraContactPoint: string
  }
}

export default async function setup(project: TestProject) {
  let startedBroker = false
  let startedRedis = false
  let startedOpenSearch = false
  let startedCassandra = false
  let brokers: string[]
  const log = (line: string) => process.stderr.write(`${line}\n`)
  try {
    // OpenSearch (the search-index store's server) starts while the broker does
    const openSearch = startOpenSearch({ log })
    const cassandra = startCassandra({ log })
    if (process.env.KAFKA_BROKERS) {
      brokers = process.env.KAFKA_BROKERS.split(',').map((b) => b.trim())
    } else {
      checkPrerequisites()
      const broker = await startBroker({ log })
      startedBroker = broker.started
      brokers = [broker.bootstrap]
    }
    const redis = await startRedis({ log })
    startedRedis = redis.started
    project.provide('kafkaBrokers', brokers)
    project.provide('redisUrl', redis.url)
    const search = await openSearch
    startedOpenSearch = search.started
    project.provide('openSearchUrl', search.url)
    const cql = await cassandra
    startedCassandra = cql.started
    project.provide('cassandraContactPoint', cql.contactPoint)
  } catch (error) {
    throw new Error(`test infrastructure unavailable: ${error instanceof Error ? error.message : String(error)}`)
  }
  return async () => {
    if (startedBroker && !process.env.KASPER_KEEP_BROKER) await stopBroker()
    if (startedRedis) stopRedis()
    if (startedOpenSearch) await stopOpenSearch()
    if (startedCassandra) await stopCassandra()
  }
}
