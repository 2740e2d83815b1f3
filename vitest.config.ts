import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // *.faults.ts: the long fault scenarios, run by `npm run faults` only
    include: ['test/**/*.test.ts', ...(process.env.KASPER_FAULTS_FULL ? ['test/**/*.faults.ts'] : [])],
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration tests share one broker on a 2-core machine: run files one after the other.
    fileParallelism: false,
    // under CI, also a JSON report that .ci/run summarizes in one closing line
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    ...(process.env.CI ? { outputFile: { json: 'test-results.json' } } : {}),
  },
})
