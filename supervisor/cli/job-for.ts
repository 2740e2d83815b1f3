import { resolve } from 'node:path'
import { loadJob } from '../../workers/job.js'

/** Loads a job module for a command, or says why not (the caller exits 2). */
export async function jobFor(jobPath: string): Promise<Awaited<ReturnType<typeof loadJob>> | undefined> {
  try {
    return await loadJob(resolve(jobPath))
  } catch (error) {
    process.stderr.write(`kasper: ${error instanceof Error ? error.message : String(error)}\n`)
    return undefined
  }
}
