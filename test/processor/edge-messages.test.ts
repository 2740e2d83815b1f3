import { describe, expect, it } from 'vitest'
import { type BatchError, ErrorCodes } from '../../src/index.js'
import {
  committedOffsets,
  createKafka,
  createTopics,
  produce,
  readTopic,
  uniqueName,
  waitFor,
} from '../helpers/kafka.js'
import { RecordingProcessor, start } from '../helpers/processor.js'

describe('unusual messages on the real broker', () => {
  it('null keys and null values (tombstones) reach process() as null and can be produced', async () => {
    const kafka = createKafka()
    const [input, output] = [uniqueName('nulls-in'), uniqueName('nulls-out')]
    await createTopics(kafka, [input, output], 1)
    await produce(kafka, input, [
      { key: null, value: 'no key' },
      { key: 'tombstone', value: null },
      { key: null, value: null },
    ])
    const processor = new RecordingProcessor((messages, sender) => {
      for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
    })
    const { tp, run } = start(
      { topicProcessorName: uniqueName('nulls'), kafka, inputTopics: [input], inputPartitions: [0] },
      processor,
    )
    await waitFor(() => processor.messages.length >= 3 || undefined)
    await tp.close()
    expect(await run).toBeUndefined()
    expect(processor.messages.map((m) => [m.key?.toString() ?? null, m.value?.toString() ?? null])).toEqual([
      [null, 'no key'],
      ['tombstone', null],
      [null, null],
    ])
    expect((await readTopic(kafka, output, 3)).map((m) => [m.key, m.value])).toEqual([
      [null, 'no key'],
      ['tombstone', null],
      [null, null],
    ])
  })

  it('a value near the broker’s size limit is read and produced; one over it fails the batch with MESSAGE_TOO_LARGE', async () => {
    const kafka = createKafka()
    const [input, output] = [uniqueName('big-in'), uniqueName('big-out')]
    await createTopics(kafka, [input, output], 1)
    const big = 'x'.repeat(900 * 1024)
    await produce(kafka, input, [{ key: 'big', value: big }])
    const name = uniqueName('big')
    const copy = new RecordingProcessor((messages, sender) => {
      for (const m of messages) sender.send({ topic: output, key: m.key, value: m.value })
    })
    const first = start({ topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] }, copy)
    await waitFor(() => copy.messages.length >= 1 || undefined)
    await first.tp.close()
    expect(await first.run).toBeUndefined()
    expect(copy.messages[0]?.value?.length).toBe(900 * 1024)
    expect((await readTopic(kafka, output, 1))[0]?.value?.length).toBe(900 * 1024)

    await produce(kafka, input, [{ key: 'next', value: 'y' }])
    const tooBig = new RecordingProcessor((messages, sender) => {
      for (const m of messages) sender.send({ topic: output, key: m.key, value: 'z'.repeat(1200 * 1024) })
    })
    const second = start({ topicProcessorName: name, kafka, inputTopics: [input], inputPartitions: [0] }, tooBig)
    const error = (await second.run) as BatchError
    expect(error.code).toBe(ErrorCodes.MESSAGE_TOO_LARGE)
    expect(error.offsets).toEqual({ [input]: { first: '1', last: '1' } })
    expect(error.message).toMatch(new RegExp(`${output}\\[0\\] is \\d+ bytes.*max.message.bytes`))
    expect((await committedOffsets(kafka, `kasper-topic-processor-${name}`, input)).get(0)).toBe('1')
  })
})
