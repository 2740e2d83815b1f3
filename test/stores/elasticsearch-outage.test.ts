import { afterAll, describe, it } from 'vitest'
import { openSearchSettings, startOpenSearch, stopOpenSearch } from '../../scripts/lib/opensearch.mjs'
import { ElasticsearchStore, stringCodec } from '../../src/index.js'
import { uniqueName } from '../helpers/kafka.js'
import { storeOutageScenario } from './store-outage.js'

// a node of this test's own, so stopping it disturbs no other test
const settings = openSearchSettings({ OPENSEARCH_URL: `http://127.0.0.1:${19_250 + (process.pid % 500)}` })
afterAll(() => stopOpenSearch(settings))

describe('an OpenSearch outage mid-run', () => {
  it('fails the batch with a StoreError cause, commits nothing of it, and a rerun converges to the right state', async () => {
    await startOpenSearch({ settings, log: () => {} })
    const index = uniqueName('latest')
    await storeOutageScenario({
      prefix: 'es-outage',
      store: async () => new ElasticsearchStore({ node: settings.url, index, codec: stringCodec, timeoutMs: 3000 }),
      kill: () => stopOpenSearch(settings),
      restart: () => startOpenSearch({ settings, log: () => {} }),
      rerunTimeoutMs: 60_000,
    })
  }, 120_000)
})
