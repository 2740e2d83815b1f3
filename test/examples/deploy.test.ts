import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { kasper } from '../helpers/cli.js'
import { ECHO_JOB, echoJobEnv, jobNames } from '../helpers/jobs.js'
import { createKafka, createTopics, produce, readTopic, waitFor } from '../helpers/kafka.js'

interface EnvVar {
  name: string
  value?: string
  valueFrom?: { fieldRef?: { fieldPath: string } }
}
interface Probe {
  httpGet: { path: string; port: string }
}
interface Container {
  args: string[]
  env: EnvVar[]
  ports: { name: string; containerPort: number }[]
  resources: { requests: { cpu: string }; limits: { memory: string } }
  livenessProbe: Probe
  readinessProbe: Probe
}
interface StatefulSet {
  spec: {
    replicas: number
    template: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } }
  }
}

const statefulSet = parse(readFileSync('examples/deploy/statefulset.yaml', 'utf8')) as StatefulSet
const pod = statefulSet.spec.template.spec
const container = pod.containers[0] as Container
const env = new Map(container.env.map((e) => [e.name, e]))
const value = (name: string) => env.get(name)?.value
const dockerfile = readFileSync('examples/deploy/Dockerfile', 'utf8')
const instruction = (name: string) =>
  JSON.parse(new RegExp(`^${name} (\\[.*\\])$`, 'm').exec(dockerfile)?.[1] ?? 'null')

describe('examples/deploy', () => {
  it('the StatefulSet holds together: instances = replicas, instance from the pod name, grace above the deadline, probes on the metrics port', () => {
    expect(Number(value('KASPER_INSTANCES'))).toBe(statefulSet.spec.replicas)
    expect(env.get('KASPER_INSTANCE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name')
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      Number(value('KASPER_SHUTDOWN_TIMEOUT_MS')) + 10_000,
    )
    expect(container.args).toEqual(expect.arrayContaining(['--metrics-host', '0.0.0.0']))
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9464 }]) // the CLI's default port
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' })
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' })
    // the memory limit leaves room for every worker's heap cap, so the policy acts before the OOM killer
    const workers = Number(container.args[container.args.indexOf('--workers') + 1])
    expect(Number(container.resources.requests.cpu)).toBe(workers)
    const limitMib = Number(/^(\d+)Gi$/.exec(container.resources.limits.memory)?.[1]) * 1024
    expect(limitMib).toBeGreaterThan(workers * Number(value('KASPER_WORKER_MAX_OLD_GENERATION_MB')) + 256)
  })

  it('the Dockerfile runs kasper itself in exec form, over files the build makes, with the StatefulSet’s command', () => {
    const entrypoint = instruction('ENTRYPOINT') as string[]
    const command = instruction('CMD') as string[]
    expect(entrypoint).toEqual(['node', 'dist/supervisor/cli/main.js'])
    expect(existsSync(entrypoint[1] as string)).toBe(true)
    expect(command).toEqual(container.args)
    expect(existsSync(command[1] as string)).toBe(true)
  })

  it('the pod’s command line runs: pod twitter-reach-2 of 3 takes the last share, and SIGTERM stops it with 0', async () => {
    const kafka = createKafka()
    const names = jobNames()
    await createTopics(kafka, [names.input, names.output], 12)
    const messages = Array.from({ length: 120 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 12 }))
    await produce(kafka, names.input, messages)
    // the pod's own arguments and settings, with the echo job in place of the demo (its topics are this test's)
    const podEnv = Object.fromEntries(
      container.env.filter((e) => e.value !== undefined && e.name.startsWith('KASPER_')).map((e) => [e.name, e.value]),
    )
    const args = container.args.map((arg, i) => (i === 1 ? ECHO_JOB : arg))
    const run = kasper(args, {
      ...echoJobEnv({ ...names, partitions: 12 }),
      ...podEnv,
      KASPER_INSTANCE: 'twitter-reach-2', // what the fieldRef gives the third pod
      KASPER_METRICS_PORT: '0', // 9464 may be taken on a developer's machine
    })
    try {
      await waitFor(() => (run.output().match(/slice started/g)?.length === 2 ? true : undefined), 30_000)
      expect(run.output()).toMatch(/"slices":\[\[8,9\],\[10,11\]\],.*"msg":"supervisor starting"/)
      const out = await readTopic(kafka, names.output, 40)
      expect(out.map((m) => m.value).sort()).toEqual(
        messages
          .filter((m) => m.partition >= 8)
          .map((m) => m.value)
          .sort(),
      )
    } finally {
      run.child.kill('SIGTERM')
    }
    expect(await run.exit).toBe(0)
    expect(run.output()).toMatch(/"exitCode":0,"terminated":\[\],"msg":"supervisor stopped"/)
  })
})
