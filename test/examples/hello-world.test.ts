import { describe, expect, it } from 'vitest'
import { HelloProcessor } from '../../examples/hello-world/hello-processor.js'
import { textLogger } from '../../src/index.js'
import { createKafka, createTopics, produce, readTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { start } from '../helpers/processor.js'

describe('examples/hello-world on the real broker', () => {
  it('logs every message and greets it on the output topic', async () => {
    const kafka = createKafka()
    const name = uniqueName('hello')
    const [input, output] = [`${name}-hello`, `${name}-greetings`]
    await createTopics(kafka, [input, output], 1)
    await produce(kafka, input, [
      { key: 'a', value: 'world' },
      { key: 'b', value: 'kasper' },
      { key: 'c', value: null },
    ])
    const lines: string[] = []
    const logger = textLogger({ write: (l) => lines.push(l) })
    const { tp, run } = start(
      { topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] },
      new HelloProcessor(logger, output),
    )
    await waitFor(() => lines.length >= 3 || undefined)
    await tp.close()
    expect(await run).toBeUndefined()
    expect((await readTopic(kafka, output, 3)).map((m) => `${m.key}:${m.value}`)).toEqual([
      'a:Hello world',
      'b:Hello kasper',
      'c:Hello nobody',
    ])
    expect(lines[0]).toMatch(/INFO received world topic=.* partition=0 offset=0 key=a/)
    expect(lines[2]).toMatch(/received \(null\)/)
  })
})
