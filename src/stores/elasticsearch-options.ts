import { z } from 'zod'
import type { MetricsProvider } from '../metrics/provider.js'
import { parseOptions } from '../options.js'
import type { Codec } from './codecs.js'

const isCodec = (v: unknown): v is Codec<unknown> =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Codec<unknown>).encode === 'function' &&
  typeof (v as Codec<unknown>).decode === 'function'
const isMetrics = (v: unknown): v is MetricsProvider =>
  typeof v === 'object' && v !== null && typeof (v as MetricsProvider).histogram === 'function'

/** Elasticsearch's and OpenSearch's rules for index names; a tenant's index adds `-<tenant>`. */
const INDEX_NAME = /^(?![-_+])(?!\.{1,2}$)[^A-Z\\/*?"<>| ,#:]{1,200}$/
export const indexNameProblem = (name: string): string | undefined =>
  INDEX_NAME.test(name)
    ? undefined
    : `"${name}" is not an index name: lowercase, 1-200 characters, none of \\ / * ? " < > | space , # :, not starting with - _ +`

const indexName = (field: string) =>
  z.string({ error: `${field} must be a string` }).refine((v) => indexNameProblem(v) === undefined, {
    error: (issue) => `${field}: ${indexNameProblem(String(issue.input))}`,
  })

const common = {
  /** The cluster's HTTP endpoint (a node, or a load balancer before several). */
  node: z
    .string()
    .url('node must be a URL')
    .refine((u) => /^https?:\/\//.test(u), 'node must start with http:// or https://')
    .default('http://127.0.0.1:9200'),
  /** HTTP basic authentication, or an API key (sent as `Authorization: ApiKey <key>`). */
  auth: z
    .union([
      z.object({ username: z.string().min(1), password: z.string() }).strict(),
      z.object({ apiKey: z.string().min(1) }).strict(),
    ])
    .optional(),
  codec: z.custom<Codec<unknown>>(isCodec, 'codec must have encode() and decode()').optional(),
  /**
   * 'binary': each value is stored encoded, as `{ "value": <base64> }` (mapped `binary`, not
   * indexed): any codec. 'json': the encoded value must be a JSON object, stored as the document
   * itself, so it can be searched (use jsonCodec()).
   */
  document: z.enum(['binary', 'json']).default('binary'),
  /** Expire values after this many ms: stored as `kasper_expires_at`, expired documents read as absent. */
  ttlMs: z.number().int('ttlMs must be an integer').positive('ttlMs must be > 0').optional(),
  /** The `refresh` of every bulk write: false (the default: reads by id are real-time anyway), true or 'wait_for'. */
  refresh: z.union([z.boolean(), z.literal('wait_for')]).default(false),
  /** Custom routing: the shard key of a document, from its key. */
  routing: z
    .custom<(key: string) => string>((v) => typeof v === 'function', 'routing must be a function (key) => string')
    .optional(),
  /** Fail a call that has no answer after this long: the batch fails and is replayed. */
  timeoutMs: z.number().int('timeoutMs must be an integer').positive('timeoutMs must be > 0').default(10_000),
  metrics: z.custom<MetricsProvider>(isMetrics, 'metrics must be a MetricsProvider').optional(),
}

export const elasticsearchStoreSchema = z.object({ ...common, index: indexName('index') }).strict()
export const elasticsearchMultiStoreSchema = z
  .object({
    ...common,
    /** Each tenant's index is `<prefix>-<tenant>` (Kasper's Elasticsearch tenancy: an index per tenant). */
    prefix: indexName('prefix'),
  })
  .strict()

export type ElasticsearchStoreOptions<V> = Omit<z.input<typeof elasticsearchStoreSchema>, 'codec'> & {
  codec?: Codec<V>
}
export type ElasticsearchMultiStoreOptions<V> = Omit<z.input<typeof elasticsearchMultiStoreSchema>, 'codec'> & {
  codec?: Codec<V>
}
export type ResolvedSearchOptions = Omit<z.output<typeof elasticsearchStoreSchema>, 'index'>

export const parseElasticsearchStoreOptions = (input: unknown) =>
  parseOptions('ElasticsearchStore', elasticsearchStoreSchema, input)
export const parseElasticsearchMultiStoreOptions = (input: unknown) =>
  parseOptions('ElasticsearchMultiStore', elasticsearchMultiStoreSchema, input)
