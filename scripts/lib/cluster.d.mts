import type { BrokerSettings } from './broker.mjs'

export const NETNS_HOST: string
export const NETNS_PORT_OFFSET: number
export interface NodeSettings extends BrokerSettings {
  nodeId: number
}
export interface ClusterSettings {
  nodes: NodeSettings[]
  stateDir: string
  bootstrap: string
  /** Bootstrap for clients inside the fault tests' network namespace (NETNS listener). */
  netnsBootstrap: string
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
