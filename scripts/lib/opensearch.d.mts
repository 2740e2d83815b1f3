export interface OpenSearchSettings {
  url: string
  host: string
  port: number
  transportPort: number
  libsDir: string
  launcherDir: string
  stateDir: string
  logFile: string
  pidFile: string
  heap: string
}
export const OPENSEARCH_VERSION: string
export function openSearchSettings(env?: NodeJS.ProcessEnv): OpenSearchSettings
export function openSearchAnswers(settings: { url: string }, timeoutMs?: number): Promise<boolean>
export function provisionOpenSearch(settings?: OpenSearchSettings, log?: (line: string) => void): void
export function startOpenSearch(options?: {
  settings?: OpenSearchSettings
  log?: (line: string) => void
}): Promise<{ url: string; started: boolean }>
export function stopOpenSearch(settings?: OpenSearchSettings): Promise<boolean>
