/** The periodic progress line: what was committed since the last line, and the lag. */
import { describe, expect, it } from 'vitest'
import type { LogFields, Logger } from '../../src/index.js'
import { createKafka, createTopics, produce, uniqueName, values, waitFor } from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'

function capturing(): { logger: Logger; lines: { fields: LogFields; message: string }[] } {
  const lines: { fields: LogFields; message: string }[] = []
  const logger: Logger = {
    debug() {},
    info: (fields, message) => void lines.push({ fields, message }),
    warn() {},
    error() {},
    child: () => logger,
  }
  return { logger, lines }
}

describe('progress lines', () => {
  it('every progressLogIntervalMs an info line sums up batches and messages since the last one, with the lag', async () => {
    const kafka = createKafka()
    const [input, output] = [uniqueName('progress-in'), uniqueName('progress-out')]
    await createTopics(kafka, [input, output], 1)
    await produce(kafka, input, values('m', 10))
    const { logger, lines } = capturing()
    const { tp, run } = start(
      {
        topicProcessorName: uniqueName('progress'),
        kafka,
        inputTopics: [input],
        inputPartitions: [0],
        logger,
        progressLogIntervalMs: 200,
      },
      {
        process(messages, sender) {
          for (const m of messages) sender.send({ topic: output, value: m.value })
        },
      },
    )
    const progress = () => lines.filter((l) => l.message === 'progress').map((l) => l.fields)
    await waitFor(() => (progress().reduce((n, f) => n + Number(f.messagesIn), 0) >= 10 ? true : undefined))
    await tp.close()
    expect(await run).toBeUndefined()
    expect(progress().reduce((n, f) => n + Number(f.messagesOut), 0)).toBe(10)
    expect(progress().find((f) => Number(f.messagesIn) > 0)).toMatchObject({ lag: 0 })
  })

  it('progressLogIntervalMs 0 turns the line off', async () => {
    const kafka = createKafka()
    const input = uniqueName('quiet-in')
    await createTopics(kafka, [input], 1)
    await produce(kafka, input, values('m', 3))
    const { logger, lines } = capturing()
    let seen = 0
    const { tp, run } = start(
      {
        topicProcessorName: uniqueName('quiet'),
        kafka,
        inputTopics: [input],
        inputPartitions: [0],
        logger,
        progressLogIntervalMs: 0,
      },
      {
        process(messages) {
          seen += messages.length
        },
      },
    )
    await waitFor(() => (seen >= 3 ? true : undefined))
    // nothing to wait for when nothing should happen: a window of several of the test's intervals
    await new Promise((r) => setTimeout(r, 500))
    await tp.close()
    await run
    expect(lines.filter((l) => l.message === 'progress')).toEqual([])
  })
})
