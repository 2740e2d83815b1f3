/**
 * The package as users get it: `npm pack` from this checkout (which builds), installed into an empty
 * project; the CLI, the types and a job run from the installed copy against the test broker.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { brokers, createKafka, createTopics, produce, readTopic, uniqueName } from '../helpers/kafka.js'

const root = resolve('.')
let project: string
let tarballFiles: string[]

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'kasper-pack-'))
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: root, encoding: 'utf8' }),
  ) as { filename: string; files: { path: string }[] }[]
  const [tarball] = packed
  if (!tarball) throw new Error('npm pack produced nothing')
  tarballFiles = tarball.files.map((f) => f.path)
  project = mkdtempSync(join(tmpdir(), 'kasper-user-'))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(out, tarball.filename)], {
    cwd: project,
    encoding: 'utf8',
    stdio: 'pipe',
  })
}, 180_000)

describe('the packed package, installed into an empty project', () => {
  it('holds the library, the workers, the CLI, their types and the docs; no tests, benchmarks or examples', () => {
    expect(tarballFiles).toContain('dist/src/index.js')
    expect(tarballFiles).toContain('dist/src/index.d.ts')
    expect(tarballFiles).toContain('dist/supervisor/cli/main.js')
    expect(tarballFiles).toContain('dist/workers/entry.js')
    expect(tarballFiles).toContain('docs/getting-started.md')
    expect(tarballFiles.filter((f) => /^dist\/(test|bench|examples)\//.test(f) || f.endsWith('.map'))).toEqual([])
  })

  it('npx kasper --version answers from the installed binary', () => {
    const result = spawnSync(join(project, 'node_modules/.bin/kasper'), ['--version'], { encoding: 'utf8' })
    expect(result.status).toBe(0)
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('its types resolve for kasper-ts and kasper-ts/supervisor, and catch a wrong call', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        include: ['*.ts'],
      }),
    )
    writeFileSync(
      join(project, 'ok.ts'),
      `import { TopicProcessor, type MessageProcessor } from 'kasper-ts'
import { defineJob, Supervisor } from 'kasper-ts/supervisor'
import { MemoryStore, ProcessorTestDriver } from 'kasper-ts/testing'
export const driver = new ProcessorTestDriver(() => p, { batchSize: 10 })
export const store = new MemoryStore<number>({ prefix: 'p' })
export const p: MessageProcessor = {
  process(messages, sender) {
    for (const m of messages) sender.send({ topic: 'out', key: m.key, value: m.value })
  },
}
export { TopicProcessor, Supervisor, defineJob }
`,
    )
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    const ok = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
    expect(ok.stdout + ok.stderr).toBe('')
    expect(ok.status).toBe(0)
    writeFileSync(
      join(project, 'wrong.ts'),
      `import type { MessageProcessor } from 'kasper-ts'
export const p: MessageProcessor = { process(_m, sender) { sender.send({ topic: 42, value: 'x' }) } }
`,
    )
    const wrong = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
    expect(wrong.status).not.toBe(0)
    expect(wrong.stdout).toMatch(/wrong\.ts.*Type 'number' is not assignable to type 'string'/)
    rmSync(join(project, 'wrong.ts'))
  })

  it('runs a job module of the project with the installed kasper, and stops it on SIGTERM', async () => {
    const kafka = createKafka()
    const name = uniqueName('installed')
    const [input, output] = [`${name}-in`, `${name}-out`]
    await createTopics(kafka, [input, output], 2)
    await produce(
      kafka,
      input,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })),
    )
    writeFileSync(
      join(project, 'job.js'),
      `import { defineJob, range } from 'kasper-ts/supervisor'
export default defineJob({
  topicProcessorName: ${JSON.stringify(name)},
  kafka: { brokers: ${JSON.stringify(brokers())} },
  inputTopics: [${JSON.stringify(input)}],
  inputPartitions: range(0, 2),
  batchWaitMs: 100,
  logLevel: 'warn',
  createProcessor: () => ({
    process(messages, sender) {
      for (const m of messages) sender.send({ topic: ${JSON.stringify(output)}, key: m.key, value: m.value })
    },
  }),
})
`,
    )
    const child = spawn(
      join(project, 'node_modules/.bin/kasper'),
      ['run', 'job.js', '--workers', '2', '--metrics-port', '0'],
      {
        cwd: project,
        stdio: 'ignore',
      },
    )
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const out = await readTopic(kafka, output, 10, 30_000)
    child.kill('SIGTERM')
    expect(await exit).toBe(0)
    expect(out.map((m) => m.value).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort())
  }, 60_000)
})

describe('signals under the documented launch forms', () => {
  /**
   * Starts `command` in the project in a process group of its own, waits for the slice to start,
   * delivers `signal` (to npm alone, or to the whole group as a terminal's Ctrl-C does) and
   * resolves with kasper's output once kasper itself has exited (its end of the pipe closed).
   */
  async function launchAndStop(command: string[], signal: 'SIGTERM' | 'SIGINT', toGroup: boolean): Promise<string> {
    const topic = uniqueName('signals-in')
    await createTopics(createKafka(), [topic], 1)
    writeFileSync(
      join(project, 'signal-job.js'),
      `import { defineJob, range } from 'kasper-ts/supervisor'
export default defineJob({
  topicProcessorName: ${JSON.stringify(topic)},
  kafka: { brokers: ${JSON.stringify(brokers())} },
  inputTopics: [${JSON.stringify(topic)}],
  inputPartitions: range(0, 1),
  createProcessor: () => ({ process() {} }),
})
`,
    )
    const [file, ...args] = command as [string, ...string[]]
    const child = spawn(file, [...args, 'run', 'signal-job.js', '--metrics-port', '0'], {
      cwd: project,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stderr?.on('data', (d) => (output += d))
    const closed = new Promise<void>((r) => child.stdout?.once('close', () => r()))
    await new Promise<void>((resolveStarted, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "slice started" within 30 s:\n${output}`)), 30_000)
      child.stdout?.on('data', (d) => {
        output += d
        if (output.includes('slice started')) {
          clearTimeout(timer)
          resolveStarted()
        }
      })
    })
    try {
      if (toGroup) process.kill(-(child.pid as number), signal)
      else child.kill(signal)
      const stillRunning = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`kasper still running 20 s after ${signal}:\n${output}`)), 20_000).unref(),
      )
      await Promise.race([closed, stillRunning])
      return output
    } finally {
      // Whatever happened, nothing of this launch outlives the test (an orphaned kasper stays in the group).
      try {
        process.kill(-(child.pid as number), 'SIGKILL')
      } catch {
        // the group is gone: everything stopped by itself
      }
    }
  }

  for (const form of [
    ['npx', 'kasper'],
    ['npm', 'exec', '--', 'kasper'],
  ]) {
    it(`${form.join(' ')}: a SIGTERM to npm alone stops kasper gracefully (npm does not pass it on)`, async () => {
      const output = await launchAndStop(form, 'SIGTERM', false)
      expect(output).toMatch(/"signal":"SIGTERM","msg":"signal received: stopping gracefully"/)
      expect(output).toMatch(/"exitCode":0,"terminated":\[\],"msg":"supervisor stopped"/)
    }, 60_000)

    it(`${form.join(' ')}: Ctrl-C (SIGINT to the process group) stops kasper gracefully`, async () => {
      const output = await launchAndStop(form, 'SIGINT', true)
      expect(output).toMatch(/"signal":"SIGINT","msg":"signal received: stopping gracefully"/)
      expect(output).toMatch(/"exitCode":0,"terminated":\[\],"msg":"supervisor stopped"/)
    }, 60_000)
  }
})
