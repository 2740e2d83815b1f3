import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SupervisorMetrics } from './supervisor-metrics.js'

export interface HealthState {
  /** False once the job halted or is shutting down. */
  healthy: boolean
  /** True when every slice is reading. */
  ready: boolean
  slices: { slice: number; partitions: readonly number[]; running: boolean }[]
  /** Group assignment: the generation this daemon joined (null while it joins), and its partitions. */
  generation?: number | null
  assigned?: readonly number[]
}

/** GET /metrics (Prometheus text), /healthz and /readyz (200 or 503, JSON body). */
export class MetricsServer {
  readonly #server: Server
  #url: string | undefined

  constructor(metrics: SupervisorMetrics, health: () => HealthState) {
    this.#server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0]
      if (request.method !== 'GET') {
        response.writeHead(405).end()
        return
      }
      if (path === '/metrics') {
        metrics.render().then(
          (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
          (error: Error) => response.writeHead(500).end(error.message),
        )
        return
      }
      if (path === '/healthz' || path === '/readyz') {
        const state = health()
        const ok = path === '/healthz' ? state.healthy : state.ready
        response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(state))
        return
      }
      response.writeHead(404).end()
    })
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolveListen, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, host, () => {
        const address = this.#server.address() as AddressInfo
        this.#url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`
        resolveListen()
      })
    })
  }

  get url(): string | undefined {
    return this.#url
  }

  close(): Promise<void> {
    return new Promise((resolveClose) => {
      this.#server.closeAllConnections()
      this.#server.close(() => resolveClose())
    })
  }
}
