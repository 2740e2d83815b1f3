#!/usr/bin/env node
// npm run opensearch:up | opensearch:down: a local OpenSearch node on OPENSEARCH_URL (default
// http://127.0.0.1:9200) for the search-index store; up reuses one that answers.
import { startOpenSearch, stopOpenSearch } from './lib/opensearch.mjs'

const command = process.argv[2] ?? 'up'
try {
  if (command === 'up') {
    const { url, started } = await startOpenSearch()
    console.error(started ? `kasper: started OpenSearch on ${url}` : `kasper: reusing OpenSearch on ${url}`)
    console.log(url)
  } else if (command === 'down') {
    console.error(
      (await stopOpenSearch()) ? 'kasper: OpenSearch stopped' : 'kasper: no OpenSearch of this project was running',
    )
  } else {
    console.error(`usage: node scripts/opensearch.mjs up|down`)
    process.exitCode = 2
  }
} catch (error) {
  console.error(`kasper: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
