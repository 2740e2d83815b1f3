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

describe('npm run kafka:up -- --nodes 3', () => {
  const clusterPort = String(19_600 + (process.pid % 50) * 6)
  const clusterEnv = { ...inherited, KAFKA_PORT: clusterPort }
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['scripts/kafka.mjs', ...args], { env: clusterEnv, encoding: 'utf8' })
  const nodesRunning = () =>
    execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('kafka.Kafka') && line.includes(`/.kafka/${clusterPort}-x3/`)).length

  afterAll(() => {
    run('down')
    rmSync(`.kafka/${clusterPort}-x3`, { recursive: true, force: true })
  })

  it('starts a 3-node KRaft cluster once (replication factor 3, min ISR 2), status shows each node, down stops all', () => {
    const ports = [0, 2, 4].map((d) => Number(clusterPort) + d)
    const first = run('up', '--nodes', '3')
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout.trim()).toBe(ports.map((p) => `127.0.0.1:${p}`).join(','))
    expect(first.stderr).toMatch(/replication factor 3, min.insync.replicas 2/)
    const second = run('up', '--nodes', '3')
    expect(second.status).toBe(0)
    expect(second.stderr).toMatch(/reusing the 3-node cluster/)
    expect(nodesRunning()).toBe(3)
    const status = run('status')
    expect(status.status).toBe(0)
    for (const [i, p] of ports.entries()) {
      expect(status.stdout).toMatch(new RegExp(`node ${i + 1} of 3: running on 127.0.0.1:${p} \\(pid \\d+\\)`))
    }
    const topic = run(
      'tool',
      'kafka-topics',
      '--bootstrap-server',
      `127.0.0.1:${ports[1]}`,
      '--create',
      '--topic',
      'rf',
      '--partitions',
      '2',
    )
    expect(topic.status, topic.stderr).toBe(0)
    const described = run(
      'tool',
      'kafka-topics',
      '--bootstrap-server',
      `127.0.0.1:${ports[2]}`,
      '--describe',
      '--topic',
      'rf',
    )
    expect(described.stdout).toMatch(/ReplicationFactor: 3/)
    expect(described.stdout).toMatch(/min.insync.replicas=2/)
    expect(run('down').stdout).toMatch(/stopped nodes 1, 2, 3 of the 3-node cluster/)
    expect(nodesRunning()).toBe(0)
    expect(run('status').status).toBe(3)
    expect(run('up', '--nodes', 'x').status).toBe(1)
  }, 240_000)
})
