import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as api from '../../src/index.js'

function declarations(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return declarations(path)
    return path.endsWith('.d.ts') ? [path] : []
  })
}

describe('the public API', () => {
  it('no `any` leaks into the published declarations (npm test builds dist/ first)', () => {
    const offenders = ['dist/src', 'dist/workers', 'dist/supervisor'].flatMap(declarations).filter((file) => {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
      return /(:\s*any\b|<any>|\bany\[\]|\bas any\b)/.test(code)
    })
    expect(offenders).toEqual([])
  })

  it('exports by name what the docs describe', () => {
    for (const name of [
      'TopicProcessor',
      'RedisStore',
      'MemoryStore',
      'PrometheusMetrics',
      'jsonLogger',
      'KasperError',
      'ErrorCodes',
    ]) {
      expect(api).toHaveProperty(name)
    }
  })
})
