#!/usr/bin/env node
// npm run cassandra:up | cassandra:down: a local Cassandra node on CASSANDRA_HOST (default
// 127.0.0.1:9042) for the Cassandra store; up reuses one that answers.
import { startCassandra, stopCassandra } from './lib/cassandra.mjs'

const command = process.argv[2] ?? 'up'
try {
  if (command === 'up') {
    const { contactPoint, started } = await startCassandra()
    console.error(
      started ? `kasper: started Cassandra on ${contactPoint}` : `kasper: reusing Cassandra on ${contactPoint}`,
    )
    console.log(contactPoint)
  } else if (command === 'down') {
    console.error(
      (await stopCassandra()) ? 'kasper: Cassandra stopped' : 'kasper: no Cassandra of this project was running',
    )
  } else {
    console.error('usage: node scripts/cassandra.mjs up|down')
    process.exitCode = 2
  }
} catch (error) {
  console.error(`kasper: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
