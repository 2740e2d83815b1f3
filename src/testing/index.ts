/** kasper-ts/testing: run processors over in-memory batches, without a broker (docs/testing.md). */
export { MemoryStore } from '../stores/memory-store.js'
export { type BatchRun, type DriverOptions, ProcessorTestDriver, type TestInput } from './processor-driver.js'
