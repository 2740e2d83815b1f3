import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, expect } from 'vitest'
import { TestCluster } from '../helpers/cluster.js'
import type { FaultFigures } from './cluster-faults.js'

const report: FaultFigures[] = []

/** Asserts what every fault scenario must hold, and keeps its figures for the report. */
export function checkFigures(figures: FaultFigures): void {
  process.stderr.write(`${JSON.stringify(figures)}\n`)
  report.push(figures)
  expect(figures.inputs).toBeGreaterThan(0)
  expect(figures.lost).toBe(0)
  expect(figures.committedAheadOfOutput).toBe(0)
  expect(figures.commitsAtEnd).toBe(true)
  expect(figures.unexpectedOutputs).toBe(0)
  expect(figures.outputs).toBe(figures.distinctInputs + figures.duplicates)
}

/**
 * Adds the figures of this file's scenarios to KASPER_FAULT_CLUSTER_REPORT (a JSON array), when set;
 * `npm run faults` removes the file first.
 */
export function writeFaultReport(): void {
  const file = process.env.KASPER_FAULT_CLUSTER_REPORT
  if (!file || report.length === 0) return
  const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as FaultFigures[]) : []
  writeFileSync(file, `${JSON.stringify([...earlier, ...report], null, 2)}\n`)
}

/** Starts the 3-node cluster before the file's tests and, after them, writes the report and stops it. */
export function useFaultCluster(): () => TestCluster {
  let cluster: TestCluster | undefined
  beforeAll(async () => {
    cluster = await TestCluster.start()
  }, 240_000)
  afterAll(async () => {
    writeFaultReport()
    await cluster?.close()
  }, 120_000)
  return () => {
    if (!cluster) throw new Error('the fault cluster is ready only inside tests')
    return cluster
  }
}
