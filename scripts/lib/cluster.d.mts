import type { BrokerSettings } from './broker.mjs'

export interface NodeSettings extends BrokerSettings {
  nodeId: number
}
export interface ClusterSettings {
  nodes: NodeSettings[]
  stateDir: string
  bootstrap: string
  replication: number
  minIsr: number
}
export function clusterSettings(options?: {
  nodes?: number
  basePort?: number
  env?: NodeJS.ProcessEnv
}): ClusterSettings
export function startCluster(options?: {
  cluster?: ClusterSettings
  timeoutMs?: number
  log?: (line: string) => void
}): Promise<{ bootstrap: string; started: number[] }>
export function startNode(
  cluster: ClusterSettings,
  nodeId: number,
  options?: { timeoutMs?: number; log?: (line: string) => void },
): Promise<void>
export function stopNode(
  cluster: ClusterSettings,
  nodeId: number,
  options?: { signal?: 'SIGTERM' | 'SIGKILL'; timeoutMs?: number },
): Promise<boolean>
export function stopCluster(options?: { cluster?: ClusterSettings; removeState?: boolean }): Promise<number[]>
export function clusterStatus(
  cluster?: ClusterSettings,
): Promise<{ nodeId: number; bootstrap: string; pid: number | undefined; answers: boolean }[]>
