import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
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
