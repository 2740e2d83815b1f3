import { rmSync } from 'node:fs'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, describe, expect, it } from 'vitest'
import { brokerSettings, startBroker, stopBroker } from '../../scripts/lib/broker.mjs'
import { silentLogger } from '../../src/index.js'
import { Supervisor } from '../../supervisor/index.js'
import { ECHO_JOB, echoJobEnv, jobNames, setEnv } from '../helpers/jobs.js'
import { committedTotal, createTopics, produce, readTopic, waitFor } from '../helpers/kafka.js'

// A private broker: stopping it must not disturb the shared one the other tests use.
const settings = brokerSettings({ ...process.env, KAFKA_PORT: String(19_400 + (process.pid % 200) * 2) })
afterAll(async () => {
  await stopBroker({ settings })
  rmSync(settings.stateDir, { recursive: true, force: true })
})

describe('the broker stopped and started mid-run', () => {
  it.each([
    { mode: 'slow', outageMs: 3000 },
    // sender.flush() inside process(): the produce itself rides out the outage, no slice fails
    { mode: 'flush', outageMs: 18_000 },
  ])(
    'a $outageMs ms outage ($mode): processing resumes by itself, no slice fails, nothing is lost',
    async ({ mode, outageMs }) => {
      const { bootstrap } = await startBroker({ settings, log: () => {} })
      const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10 } })
      const names = jobNames()
      await createTopics(kafka, [names.input, names.output], 2)
      const inputs = Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 }))
      await produce(kafka, names.input, inputs)
      const restore = setEnv({
        ...echoJobEnv({ ...names, partitions: 2, mode, slowMs: 40, batchSize: 50 }),
        KASPER_TEST_BROKERS: bootstrap,
      })
      const supervisor = new Supervisor({
        jobPath: ECHO_JOB,
        workers: 2,
        metricsPort: null,
        restartBackoffMs: 500,
        maxRestarts: 20,
        logger: silentLogger,
      })
      const failures: string[] = []
      supervisor.on('slice-failed', ({ error }) => failures.push(error.code ?? error.name))
      const group = `kasper-topic-processor-${names.name}`
      const total = () => committedTotal(kafka, group, names.input)
      try {
        await supervisor.start()
        await waitFor(async () => ((await total()) > 300 ? true : undefined), 30_000)
        await stopBroker({ settings })
        const downAt = Date.now()
        await new Promise((r) => setTimeout(r, outageMs))
        await startBroker({ settings, log: () => {} })
        await waitFor(async () => ((await total()) === inputs.length ? true : undefined), 90_000, 250)
        const recoveredInMs = Date.now() - downAt
        expect(recoveredInMs).toBeLessThan(90_000)
        process.stdout.write(
          `broker outage figures: ${JSON.stringify({ mode, inputs: inputs.length, outageMs, allCommittedAfterMs: recoveredInMs, sliceFailures: failures })}\n`,
        )
      } finally {
        await supervisor.stop()
        restore()
      }
      const out = await readTopic(kafka, names.output, inputs.length, 20_000)
      const seen = new Set(out.map((m) => m.value))
      expect(inputs.filter((m) => !seen.has(m.value))).toEqual([])
      // Kafka unavailable for less than unavailableTimeoutMs (60 s) is ridden out inside the slice
      expect(failures).toEqual([])
    },
    180_000,
  )
})
