import type { Admin, ConfigResourceTypes, Kafka } from 'kafkajs'
import { ErrorCodes, OutputError } from '../errors.js'
import type { OutputTopicInfo } from './produce-plan.js'

/** kafkajs's ConfigResourceTypes.TOPIC (the enum is not a named export of kafkajs's CommonJS module under Node's ESM loader). */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes
/** Kafka's default max.message.bytes, used when a topic's configuration cannot be read. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
/** How long a topic's layout is trusted before it is read again (partitions can be added). */
const FRESH_MS = 60_000

/** What the producer needs to know of output topics (OutputTopics; a fake in unit tests). */
export interface OutputTopicSource {
  known(topic: string): OutputTopicInfo | undefined
  load(topics: Iterable<string>, force?: ReadonlySet<string>): Promise<void>
  get(topic: string): OutputTopicInfo
  close(): Promise<void>
}

/**
 * The partition count and record batch limit of each output topic, read once (then every minute)
 * with the admin client, so output is checked before anything is produced.
 */
export class OutputTopics implements OutputTopicSource {
  readonly #kafka: Kafka
  #admin: Admin | undefined
  readonly #known = new Map<string, OutputTopicInfo & { readAt: number }>()

  constructor(kafka: Kafka) {
    this.#kafka = kafka
  }

  /** What is known of `topic` and still fresh, without I/O (send() checks against it). */
  known(topic: string): OutputTopicInfo | undefined {
    const info = this.#known.get(topic)
    return info && Date.now() - info.readAt < FRESH_MS ? info : undefined
  }

  /**
   * Makes every topic in `topics` known, reading those that are not (or are stale). `force` reads
   * them again even when fresh (a partition missing from a fresh layout may have just been added).
   * A topic that does not exist is OUTPUT_TOPIC_NOT_FOUND.
   */
  async load(topics: Iterable<string>, force: ReadonlySet<string> = new Set()): Promise<void> {
    const wanted = [...new Set(topics)].filter((t) => force.has(t) || this.known(t) === undefined)
    if (wanted.length === 0) return
    const admin = await this.#connected()
    const existing = new Set(await admin.listTopics())
    const missing = wanted.filter((t) => !existing.has(t))
    if (missing.length > 0) {
      const [first] = missing
      throw new OutputError(
        ErrorCodes.OUTPUT_TOPIC_NOT_FOUND,
        `output topic${missing.length > 1 ? 's' : ''} ${missing.map((t) => `"${t}"`).join(', ')} ` +
          `do${missing.length > 1 ? '' : 'es'} not exist (topics are never created automatically)`,
        first,
      )
    }
    const [{ topics: metadata }, limits] = await Promise.all([
      admin.fetchTopicMetadata({ topics: wanted }),
      this.#maxMessageBytes(admin, wanted),
    ])
    const now = Date.now()
    for (const { name, partitions } of metadata) {
      this.#known.set(name, {
        partitions: partitions.length,
        maxMessageBytes: limits.get(name) ?? DEFAULT_MAX_MESSAGE_BYTES,
        readAt: now,
      })
    }
  }

  /** Like known(), for a topic load() was asked for (throws when it was not). */
  get(topic: string): OutputTopicInfo {
    const info = this.#known.get(topic)
    if (!info) throw new Error(`output topic "${topic}" was not loaded`)
    return info
  }

  async close(): Promise<void> {
    const admin = this.#admin
    this.#admin = undefined
    await admin?.disconnect()
  }

  async #connected(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin()
      await admin.connect()
      this.#admin = admin
    }
    return this.#admin
  }

  async #maxMessageBytes(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
    const limits = new Map<string, number>()
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: TOPIC_RESOURCE,
          name,
          configNames: ['max.message.bytes'],
        })),
      })
      for (const { resourceName, configEntries } of resources) {
        const value = Number(configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue)
        if (Number.isInteger(value) && value > 0) limits.set(resourceName, value)
      }
    } catch {
      // no DescribeConfigs permission: Kafka's default applies (an oversized batch then fails typed at the broker)
    }
    return limits
  }
}
