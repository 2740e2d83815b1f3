import { describe, expect, it } from 'vitest'
import { PrometheusMetrics } from '../../src/index.js'

describe('PrometheusMetrics', () => {
  it('registers into its own registry, with a constant label, get-or-create by name', async () => {
    const a = new PrometheusMetrics({ label: 'reach-0' })
    const b = new PrometheusMetrics({ label: 'reach-1' })
    const counter = a.counter({ name: 'kasper_test_total', help: 'h', labelNames: ['topic'] })
    a.counter({ name: 'kasper_test_total', help: 'h', labelNames: ['topic'] }).inc({ topic: 't' }, 2)
    counter.inc({ topic: 't' })
    a.gauge({ name: 'kasper_test_gauge', help: 'h', labelNames: ['p'] }).set({ p: 1 }, 7)
    a.histogram({ name: 'kasper_test_seconds', help: 'h', labelNames: ['p'], buckets: [1] }).observe({ p: 1 }, 0.5)
    const text = await a.metrics()
    expect(text).toContain('kasper_test_total{topic="t",label="reach-0"} 3')
    expect(text).toContain('kasper_test_gauge{p="1",label="reach-0"} 7')
    expect(text).toContain('kasper_test_seconds_bucket{le="1",label="reach-0",p="1"} 1')
    expect(await b.metrics()).not.toContain('kasper_test_total')
  })
})
