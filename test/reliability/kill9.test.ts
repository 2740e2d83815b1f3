import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createKafka } from '../helpers/kafka.js'
import { runKillCycles } from './kill-cycles.js'

// The suite runs 3 cycles; `npm run faults` runs 20 (KASPER_FAULT_CYCLES) and records the figures.
const cycles = Number(process.env.KASPER_FAULT_CYCLES ?? 3)

describe('kill -9 of the daemon at random points', () => {
  it(`${cycles} cycles: nothing lost, no commit ahead of output, duplicates only from uncommitted batches`, async () => {
    const figures = await runKillCycles(createKafka(), cycles, cycles * 400)
    if (process.env.KASPER_FAULT_REPORT)
      writeFileSync(process.env.KASPER_FAULT_REPORT, `${JSON.stringify(figures, null, 2)}\n`)
    expect(figures.lost).toBe(0)
    expect(figures.committedAheadOfOutput).toBe(0)
    expect(figures.duplicatesOutsideUncommittedBatches).toBe(0)
    expect(figures.outputs).toBe(figures.inputs + figures.duplicates)
  }, 600_000)
})

describe("kill -9 of the daemon under guarantee 'exactly-once'", () => {
  it(`${cycles} cycles: every input has exactly one committed output (read_committed), none lost, none twice`, async () => {
    const figures = await runKillCycles(createKafka(), cycles, cycles * 400, { exactlyOnce: true })
    if (process.env.KASPER_FAULT_REPORT_EOS)
      writeFileSync(process.env.KASPER_FAULT_REPORT_EOS, `${JSON.stringify(figures, null, 2)}\n`)
    expect(figures.lost).toBe(0)
    expect(figures.committedAheadOfOutput).toBe(0)
    expect(figures.duplicates).toBe(0)
    expect(figures.outputs).toBe(figures.inputs)
  }, 600_000)
})
