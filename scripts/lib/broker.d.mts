export interface BrokerSettings {
  port: number
  controllerPort: number
  bootstrap: string
  libsDir: string
  stateDir: string
  dataDir: string
  logFile: string
  pidFile: string
  propsFile: string
  heap: string
}
export const projectRoot: string
export const KAFKA_VERSION: string
export const TOOLS: Record<string, string>
export function brokerSettings(env?: NodeJS.ProcessEnv): BrokerSettings
export function checkPrerequisites(settings?: BrokerSettings): void
export function provisionJars(settings?: BrokerSettings, log?: (line: string) => void): string
export function runTool(name: string, args: string[], settings?: BrokerSettings): number
export function toolOutput(
  name: string,
  args: string[],
  settings?: BrokerSettings,
): { status: number; stdout: string; stderr: string }
export function toolOutputAsync(
  name: string,
  args: string[],
  settings?: BrokerSettings,
): Promise<{ status: number; stdout: string; stderr: string }>
export function brokerAnswers(bootstrap: string, timeoutMs?: number): Promise<boolean>
export function startBroker(options?: {
  settings?: BrokerSettings
  timeoutMs?: number
  log?: (line: string) => void
}): Promise<{ bootstrap: string; started: boolean }>
export function stopBroker(options?: {
  settings?: BrokerSettings
  timeoutMs?: number
  signal?: 'SIGTERM' | 'SIGKILL'
}): Promise<boolean>
