import { execFileSync, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { brokerSettings } from '../../scripts/lib/broker.mjs'

// A private port, so the shared test broker is not touched.
const port = String(19_800 + (process.pid % 100) * 2)
const { KAFKA_BROKERS: _ignored, ...inherited } = process.env
const env = { ...inherited, KAFKA_PORT: port }
const settings = brokerSettings(env)
const script = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/kafka.mjs', ...args], { env, encoding: 'utf8' })
const brokersOnPort = () =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('kafka.Kafka') && line.includes(settings.propsFile)).length

afterAll(() => {
  script('down')
  rmSync(settings.stateDir, { recursive: true, force: true })
})

describe('npm run kafka:* (scripts/kafka.mjs)', () => {
  it('up twice leaves one broker, status sees it, the tools run from the cached jars, down leaves none', () => {
    const first = script('up')
    expect(first.status).toBe(0)
    expect(first.stdout.trim()).toBe(`127.0.0.1:${port}`)
    const second = script('up')
    expect(second.status).toBe(0)
    expect(second.stderr).toMatch(/reusing the broker/)
    expect(brokersOnPort()).toBe(1)
    expect(script('status').stdout).toMatch(new RegExp(`running on 127.0.0.1:${port}`))
    const groups = script('tool', 'kafka-consumer-groups', '--list')
    expect(groups.status).toBe(0)
    const topics = script('tool', 'kafka-topics', '--create', '--topic', 'script-test', '--partitions', '2')
    expect(topics.status).toBe(0)
    expect(script('tool', 'kafka-topics', '--list').stdout).toContain('script-test')
    expect(script('down').stdout).toMatch(/stopped the broker/)
    expect(brokersOnPort()).toBe(0)
    const status = script('status')
    expect(status.status).toBe(3)
    expect(status.stdout).toMatch(/not running/)
    expect(script('tool', 'kafka-nonsense').status).not.toBe(0)
  }, 120_000)
})
