/**
 * A TopicProcessor in one Node process, without the daemon: `node dist/examples/hello-world/main.js`.
 * Reads partition 0 of `hello`, greets on `greetings`, stops on SIGINT/SIGTERM.
 */
import { Kafka, logLevel } from 'kafkajs'
import { jsonLogger, TopicProcessor } from '../../src/index.js'
import { HelloProcessor } from './hello-processor.js'

const logger = jsonLogger({ label: 'hello-world' })
const kafka = new Kafka({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  logLevel: logLevel.ERROR,
})
const processor = new TopicProcessor(
  {
    topicProcessorName: 'hello-world-example',
    kafka,
    inputTopics: ['hello'],
    inputPartitions: [0],
    batchWaitMs: 1000,
    logger,
  },
  () => new HelloProcessor(logger),
)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void processor.close())
try {
  await processor.runLoop()
} catch (error) {
  logger.error({ err: error }, 'hello-world stopped on error')
  process.exitCode = 1
}
