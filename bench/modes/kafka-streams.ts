/**
 * Kafka Streams' pass-through (bench/kafka-streams/PassThrough.java) beside ours, in the same run:
 * its jars come from Maven Central once (bench/kafka-streams/pom.xml, into the jar cache next to
 * Kafka's), the class is compiled once with javac, and the JVM runs until the group's committed
 * offsets reach the end of the input. CPU and peak RSS (VmHWM) are read from /proc for the JVM.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const VERSION = '4.1.1'

/** The jar and class directories, provisioned on first use. */
function provision(cacheRoot: string, log: (line: string) => void): { jars: string; classes: string } {
  const home = join(cacheRoot, `kafka-streams-${VERSION}`)
  const jars = join(home, 'libs')
  const classes = join(home, 'classes')
  if (!existsSync(join(jars, '.complete'))) {
    log(`  fetching Kafka Streams ${VERSION} from Maven Central into ${jars}`)
    rmSync(jars, { recursive: true, force: true })
    mkdirSync(jars, { recursive: true })
    const mvn = spawnSync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        resolve('bench/kafka-streams/pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${jars}`,
        '-DincludeScope=runtime',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    )
    if (mvn.status !== 0) throw new Error(`Maven could not resolve Kafka Streams: ${mvn.stdout}${mvn.stderr}`)
    writeFileSync(join(jars, '.complete'), `${VERSION}\n`)
  }
  const source = resolve('bench/kafka-streams/PassThrough.java')
  const compiled = join(classes, 'PassThrough.class')
  const stamp = join(classes, '.source')
  const current = readFileSync(source, 'utf8')
  if (!existsSync(compiled) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== current) {
    mkdirSync(classes, { recursive: true })
    const javac = spawnSync('javac', ['-cp', `${jars}/*`, '-d', classes, source], { encoding: 'utf8' })
    if (javac.status !== 0) throw new Error(`javac failed (a JDK is needed for this mode): ${javac.stderr}`)
    writeFileSync(stamp, current)
  }
  return { jars, classes }
}

function procStat(pid: number): { cpuSeconds: number; peakRssMiB: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, peakRssMiB: Math.round(Number(hwm) / 1024) }
  } catch {
    return undefined
  }
}

export interface StreamsRun {
  seconds: number
  cpuSeconds: number
  peakRssMiB: number
}

/** Runs the pass-through as application `appId` until `done()`; the clock starts at the JVM's launch. */
export async function runKafkaStreams(options: {
  cacheRoot: string
  bootstrap: string
  appId: string
  input: string
  output: string
  done: () => Promise<boolean>
  log: (line: string) => void
}): Promise<StreamsRun> {
  const { jars, classes } = provision(options.cacheRoot, options.log)
  const started = performance.now()
  const jvm = spawn(
    'java',
    ['-cp', `${classes}:${jars}/*`, 'PassThrough', options.bootstrap, options.appId, options.input, options.output],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  )
  const exited = new Promise<number | null>((r) => jvm.once('exit', r))
  let last: ReturnType<typeof procStat>
  let finished = 0
  try {
    while (!finished) {
      if (jvm.exitCode !== null)
        throw new Error(`Kafka Streams exited with ${jvm.exitCode} before the end of the input`)
      if (await options.done()) finished = performance.now()
      else await new Promise((r) => setTimeout(r, 200))
      last = (jvm.pid ? procStat(jvm.pid) : undefined) ?? last
    }
  } finally {
    jvm.kill('SIGTERM')
    await exited
  }
  return {
    seconds: (finished - started) / 1000,
    cpuSeconds: last?.cpuSeconds ?? Number.NaN,
    peakRssMiB: last?.peakRssMiB ?? Number.NaN,
  }
}
