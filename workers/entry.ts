/** Worker-thread entry: wiring only (see slice-worker.ts). */
import { parentPort, workerData } from 'node:worker_threads'
import type { FromWorker, WorkerData } from './protocol.js'
import { runSlice } from './slice-worker.js'

if (!parentPort) throw new Error('workers/entry.js runs in a worker thread started by the supervisor')
const port = parentPort
const data = workerData as WorkerData
const code = await runSlice(data, port)
if (code === 0) port.postMessage({ type: 'stopped', slice: data.slice } satisfies FromWorker)
port.close()
process.exitCode = code
