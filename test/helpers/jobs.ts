import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { brokers, uniqueName } from './kafka.js'

/** The compiled echo job (npm test builds first: pretest). */
export const ECHO_JOB = resolve('dist/test/fixtures/jobs/echo-job.js')

export interface EchoJobEnv {
  name: string
  input: string
  output: string
  partitions: number
  mode?: string
  slowMs?: number
  batchSize?: number
}

/** Environment for the echo job; worker threads copy process.env when they start. */
export function echoJobEnv(job: EchoJobEnv): Record<string, string> {
  return {
    KASPER_TEST_BROKERS: brokers().join(','),
    KASPER_TEST_NAME: job.name,
    KASPER_TEST_INPUT: job.input,
    KASPER_TEST_OUTPUT: job.output,
    KASPER_TEST_PARTITIONS: String(job.partitions),
    KASPER_TEST_MODE: job.mode ?? 'echo',
    KASPER_TEST_MARKER_DIR: mkdtempSync(join(tmpdir(), 'kasper-marker-')),
    KASPER_TEST_SLOW_MS: String(job.slowMs ?? 200),
    KASPER_TEST_BATCH_SIZE: String(job.batchSize ?? 50),
  }
}

/** Sets environment variables until the returned function restores them (worker threads copy process.env when they start). */
export function setEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  Object.assign(process.env, vars)
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

export const jobNames = () => {
  const name = uniqueName('job')
  return { name, input: `${name}-in`, output: `${name}-out` }
}
