import { logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { textLogger } from '../../src/index.js'
import { kafkajsLogCreator } from '../../src/kafka/kafkajs-logger.js'

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

describe('kafkajsLogCreator', () => {
  it('kafkajs errors land at warn, except the group protocol’s normal answers (a rebalance, the next generation), at debug', () => {
    const lines: string[] = []
    const logger = textLogger({ label: 'w', level: 'debug', write: (l) => lines.push(l) })
    const log = kafkajsLogCreator(logger)(logLevel.ERROR)
    const entry = (error: string) => ({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'now', message: 'Response OffsetCommit(key: 8, version: 5)', error },
    })
    log(entry('Specified group generation id is not valid'))
    log(entry('The group is rebalancing, so a rejoin is needed'))
    log(entry('Not authorized to access group'))
    expect(lines.map((l) => / (DEBUG|WARN) /.exec(l)?.[1])).toEqual(['DEBUG', 'DEBUG', 'WARN'])
  })
})
