import { describe, expect, it } from 'vitest'
import { textLogger } from '../../src/index.js'

describe('textLogger', () => {
  it('writes level, label, message and child bindings; drops lines below its level', () => {
    const lines: string[] = []
    const root = textLogger({ label: 'reach-0', level: 'info', write: (l) => lines.push(l) })
    const child = root.child({ processor: 'reach', partition: 3 })
    child.debug({}, 'hidden')
    child.info({ offset: '10' }, 'consuming')
    child.error({ err: new Error('bad thing') }, 'failed')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/Z INFO \[reach-0\] consuming processor=reach partition=3 offset=10\n$/)
    expect(lines[1]).toMatch(/ERROR \[reach-0\] failed .*err="bad thing"/)
  })
})
