export interface CassandraSettings {
  contactPoint: string
  host: string
  port: number
  storagePort: number
  libsDir: string
  stateDir: string
  logFile: string
  pidFile: string
  heap: string
}
export const CASSANDRA_VERSION: string
export function cassandraSettings(env?: NodeJS.ProcessEnv): CassandraSettings
export function cassandraAnswers(settings: { host: string; port: number }, timeoutMs?: number): Promise<boolean>
export function provisionCassandra(settings?: CassandraSettings, log?: (line: string) => void): void
export function startCassandra(options?: {
  settings?: CassandraSettings
  log?: (line: string) => void
}): Promise<{ contactPoint: string; started: boolean }>
export function stopCassandra(settings?: CassandraSettings, signal?: NodeJS.Signals): Promise<boolean>
