import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../src/index.js'
import { topicProcessorSchema } from '../src/processor/options.js'
import { supervisorSchema } from '../supervisor/options.js'

const doc = (name: string) => readFileSync(`docs/${name}`, 'utf8')

describe('docs stay true to the code', () => {
  // each option has its own row in its component's options table, not just a mention on the page
  const tableRow = (text: string, option: string) => new RegExp(`^\\| \`${option}\` +\\|`, 'm').test(text)

  it('topic-processor.md has a row for every TopicProcessor option', () => {
    const text = doc('topic-processor.md')
    const missing = Object.keys(topicProcessorSchema.shape).filter((option) => !tableRow(text, option))
    expect(missing).toEqual([])
  })

  it('supervisor.md has a row for every Supervisor option', () => {
    const text = doc('supervisor.md')
    const missing = Object.keys(supervisorSchema.shape).filter((option) => !tableRow(text, option))
    expect(missing).toEqual([])
  })

  it('errors.md lists every error code', () => {
    const text = doc('errors.md')
    for (const code of Object.values(ErrorCodes)) expect(text).toContain(`\`${code}\``)
  })

  it('metrics.md lists every metric name registered in the code', () => {
    const text = doc('metrics.md')
    const sources = [
      'src/processor/processor-metrics.ts',
      'src/stores/store-metrics.ts',
      'supervisor/supervisor-metrics.ts',
    ]
    const names = sources.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/name: '(kasper_[a-z_]+)'/g)].map((m) => m[1]),
    )
    expect(names.length).toBeGreaterThan(15)
    for (const name of names) expect(text).toContain(`\`${name}\``)
  })

  it('the Grafana dashboard is valid JSON whose queries name real metrics', () => {
    const dashboard = JSON.parse(readFileSync('docs/grafana/kasper-ts.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[]
    }
    const metrics = doc('metrics.md')
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/kasper_[a-z_]+/g)) expect(metrics).toContain(name.replace(/_bucket$/, ''))
      }
    }
    expect(readdirSync('docs').length).toBeGreaterThan(8)
  })
})
