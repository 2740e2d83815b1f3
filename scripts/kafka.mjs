#!/usr/bin/env node
// npm run kafka:up | kafka:down | kafka:status | kafka:tool -- <tool> [args]
//
//   up      start the local broker (reuse one that answers), wait for it, print the bootstrap address
//   down    stop the broker this checkout started on KAFKA_PORT
//   status  say whether a broker answers on KAFKA_PORT
//   tool    run one of Kafka's own tools from the cached jars, e.g.
//           npm run -s kafka:tool -- kafka-consumer-groups --list
//           (--bootstrap-server defaults to the local broker, or the first of KAFKA_BROKERS)
import { brokerAnswers, brokerSettings, readPid, runTool, startBroker, stopBroker, TOOLS } from './lib/broker.mjs'

const [command, ...rest] = process.argv.slice(2)
const settings = brokerSettings()

try {
  switch (command) {
    case 'up': {
      if (process.env.KAFKA_BROKERS) {
        console.log(process.env.KAFKA_BROKERS)
        break
      }
      const { bootstrap, started } = await startBroker({ settings })
      console.error(started ? `kasper: Kafka is up on ${bootstrap}` : `kasper: reusing the broker on ${bootstrap}`)
      console.log(bootstrap)
      break
    }
    case 'down': {
      const stopped = await stopBroker({ settings })
      console.log(
        stopped
          ? `stopped the broker on ${settings.bootstrap}`
          : `no broker of this checkout runs on ${settings.bootstrap}`,
      )
      break
    }
    case 'status': {
      const up = await brokerAnswers(settings.bootstrap)
      const pid = readPid(settings)
      console.log(
        up ? `running on ${settings.bootstrap}${pid ? ` (pid ${pid})` : ''}` : `not running on ${settings.bootstrap}`,
      )
      process.exitCode = up ? 0 : 3
      break
    }
    case 'tool': {
      const [tool, ...args] = rest
      if (!tool) {
        console.error(`usage: npm run kafka:tool -- <${Object.keys(TOOLS).join('|')}> [args]`)
        process.exitCode = 2
        break
      }
      process.exitCode = runTool(tool, args, settings)
      break
    }
    default:
      console.error('usage: node scripts/kafka.mjs up|down|status|tool <name> [args]')
      process.exitCode = 2
  }
} catch (error) {
  console.error(`kasper: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
