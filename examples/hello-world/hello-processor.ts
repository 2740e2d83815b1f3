/** hello-world: stateless. Logs each message of `hello` and greets it on `greetings` (no feedback loop). */
import type { IncomingMessage, Logger, MessageProcessor, Sender } from '../../src/index.js'

export class HelloProcessor implements MessageProcessor {
  constructor(
    private readonly logger: Logger,
    private readonly output = 'greetings',
  ) {}

  process(messages: readonly IncomingMessage[], sender: Sender): void {
    for (const m of messages) {
      this.logger.info(
        { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key?.toString() ?? null },
        `received ${m.value?.toString() ?? '(null)'}`,
      )
      sender.send({ topic: this.output, key: m.key, value: `Hello ${m.value?.toString() ?? 'nobody'}` })
    }
  }
}
