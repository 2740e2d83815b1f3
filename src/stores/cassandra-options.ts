import { z } from 'zod'
import type { MetricsProvider } from '../metrics/provider.js'
import { parseOptions } from '../options.js'
import type { Codec } from './codecs.js'

const isCodec = (v: unknown): v is Codec<unknown> =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Codec<unknown>).encode === 'function' &&
  typeof (v as Codec<unknown>).decode === 'function'
/**
 * What the stores use of a cassandra-driver `Client`, structurally, so that kasper-ts's own types do
 * not need the driver (an optional peer dependency): pass your `new Client({ ... })`.
 */
export interface CassandraClient {
  execute(
    query: string,
    params?: unknown[],
    options?: Record<string, unknown>,
  ): Promise<{ rows: Record<string, unknown>[]; rowLength: number; first(): Record<string, unknown> | null }>
}
const isClient = (v: unknown): v is CassandraClient =>
  typeof v === 'object' && v !== null && typeof (v as CassandraClient).execute === 'function'
const isMetrics = (v: unknown): v is MetricsProvider =>
  typeof v === 'object' && v !== null && typeof (v as MetricsProvider).histogram === 'function'

/** Unquoted CQL identifiers: what a keyspace or table may be named here. */
const identifier = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .regex(
      /^[a-z][a-z0-9_]{0,47}$/,
      `${field} must be a lowercase CQL identifier: a-z first, then a-z 0-9 _, at most 48`,
    )

const consistency = z.enum(['one', 'localOne', 'quorum', 'localQuorum', 'eachQuorum', 'all'])

export const cassandraStoreSchema = z
  .object({
    /** A connected cassandra-driver Client (its contact points, data center, auth and TLS are yours). */
    client: z.custom<CassandraClient>(isClient, 'client must be a cassandra-driver Client'),
    /** The keyspace of the store's table (it must exist: its replication is an operator's choice). */
    keyspace: identifier('keyspace'),
    /** The store's table, created on first use as (key text PRIMARY KEY, value blob, expires_at bigint). */
    table: identifier('table'),
    codec: z.custom<Codec<unknown>>(isCodec, 'codec must have encode() and decode()').optional(),
    /** Default expiry of writes: Cassandra's TTL (whole seconds, rounded up) and an expiry checked on read. */
    ttlMs: z.number().int('ttlMs must be an integer').positive('ttlMs must be > 0').optional(),
    readConsistency: consistency.default('localQuorum'),
    writeConsistency: consistency.default('localQuorum'),
    /**
     * How getAll reads: 'in' (one `SELECT ... WHERE key IN ?` per chunk of inChunkSize keys, chunks
     * in parallel) or 'concurrent' (one prepared read per key, `concurrency` at a time).
     */
    read: z.enum(['in', 'concurrent']).default('in'),
    inChunkSize: z.number().int().positive().max(1000).default(100),
    /** Requests in flight at once for concurrent reads and for writes. */
    concurrency: z.number().int().positive().max(2048).default(64),
    /** A request with no answer after this long fails (StoreError): the batch is replayed. */
    timeoutMs: z.number().int('timeoutMs must be an integer').positive('timeoutMs must be > 0').default(10_000),
    metrics: z.custom<MetricsProvider>(isMetrics, 'metrics must be a MetricsProvider').optional(),
  })
  .strict()

export type CassandraStoreOptions<V> = Omit<z.input<typeof cassandraStoreSchema>, 'codec'> & { codec?: Codec<V> }
export type ResolvedCassandraOptions = z.output<typeof cassandraStoreSchema>

export const parseCassandraStoreOptions = (input: unknown, component = 'CassandraStore') =>
  parseOptions(component, cassandraStoreSchema, input)
