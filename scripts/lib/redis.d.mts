export interface RedisSettings {
  url: string
  host: string
  port: number
  stateDir: string
  pidFile: string
}
export function redisSettings(env?: NodeJS.ProcessEnv): RedisSettings
export function redisAnswers(settings: { host: string; port: number }, timeoutMs?: number): Promise<boolean>
export function startRedis(options?: {
  settings?: RedisSettings
  log?: (line: string) => void
}): Promise<{ url: string; started: boolean }>
export function stopRedis(settings?: RedisSettings): void
