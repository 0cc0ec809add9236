import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { KafkaConfig, Mechanism } from 'kafkajs'
import type { OAuthBearerToken } from '../security/oauth.js'
import type { Logger } from '../logging/types.js'
import type { Serializer, SerializerName } from '../serde/types.js'

/** Options every factory takes to reach the cluster. */
export interface ConnectionOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: string[]
  /** @default 'kafkatune' */
  clientId?: string
  /**
   * TLS: `true` for the system CAs, or `tls.ConnectionOptions` (`ca`, `cert`/`key` for mutual TLS, ...).
   * The broker's certificate and hostname are verified unless you turn that off yourself.
   * @default undefined (plaintext)
   */
  ssl?: boolean | TlsConnectionOptions
  /**
   * SASL: PLAIN, SCRAM-SHA-256/512, OAUTHBEARER (a token provider) or a custom mechanism (a kafkajs
   * `authenticationProvider`, e.g. an AWS MSK IAM plugin). Passwords, tokens and keys are never logged and
   * show as `[redacted]` in `explainConfig`.
   * @default undefined (no SASL)
   */
  sasl?: SaslOptions
  /**
   * kafkajs and SDK logs go here: pino (or a pino child), or any logger with pino's level methods and
   * `child()`, such as `loggers.console()` or `loggers.winston(w)`.
   * @default a pino logger at `warn` (or `KAFKATUNE_LOG_LEVEL`) on stderr
   */
  logger?: Logger
  /** Escape hatch merged last into the kafkajs client config. */
  kafkajs?: Partial<KafkaConfig>
}

/** SASL username/password mechanisms. */
export interface SaslPasswordOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  username: string
  /** Never logged, never in an error message. */
  password: string
}

/** SASL/OAUTHBEARER: kafkatune keeps the token until 80% of its lifetime (`expiresAt` or the JWT `exp`), then asks again. */
export interface SaslOAuthBearerOptions {
  mechanism: 'oauthbearer'
  oauthBearerProvider: () => Promise<OAuthBearerToken>
}

/** Any other SASL mechanism through kafkajs's `authenticationProvider` (e.g. `AWS_MSK_IAM` plugins). */
export interface SaslCustomOptions {
  /** The mechanism name the broker knows, e.g. `AWS_MSK_IAM`. */
  mechanism: string
  authenticationProvider: Mechanism['authenticationProvider']
}

export type SaslOptions = SaslPasswordOptions | SaslOAuthBearerOptions | SaslCustomOptions

export type { OAuthBearerToken }

export type Acks = 0 | 1 | 'all'
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
export type PartitionerName = 'default' | 'murmur2' | 'sticky' | 'round-robin'
export type AssignorName = 'range' | 'round-robin' | 'sticky' | 'cooperative-sticky'

/** A custom partitioner: returns a partition in `[0, partitionCount)`. */
export type PartitionerFn<K = unknown, V = unknown> = (ctx: {
  topic: string
  key: K | null
  value: V
  partitionCount: number
}) => number

/** Producer settings that are plain data (what a preset can hold). */
export interface ProducerTuning {
  /** acks. @default 'all' */
  acks?: Acks
  /** linger.ms: how long a partition batch may wait for more records. @default 5 */
  lingerMs?: number
  /** batch.size: bytes per partition batch. @default 16384 */
  batchSize?: number
  /** buffer.memory: bytes buffered in total. @default 33554432 */
  bufferMemory?: number
  /** max.block.ms: how long send() waits for buffer space. @default 60000 */
  maxBlockMs?: number
  /** compression.type. @default 'none' */
  compression?: CompressionName
  /** enable.idempotence. @default true */
  idempotent?: boolean
  /**
   * max.in.flight.requests.per.connection: produce requests in flight per broker; with idempotence also the
   * batches of one partition in flight (at most 5, order kept across retries), without it one per partition.
   * @default 5
   */
  maxInFlightRequests?: number
  /** retries. @default 2147483647 */
  retries?: number
  /** retry.backoff.ms. @default 100 */
  retryBackoffMs?: number
  /** retry.backoff.max.ms. @default 1000 */
  retryBackoffMaxMs?: number
  /** request.timeout.ms. @default 30000 */
  requestTimeoutMs?: number
  /** delivery.timeout.ms: overall deadline of one send. @default 120000 */
  deliveryTimeoutMs?: number
  /** max.request.size. @default 1048576 */
  maxRequestSize?: number
  /** transaction.timeout.ms. @default 60000 */
  transactionTimeoutMs?: number
  /** partitioner.class, by name. @default 'default' */
  partitioner?: PartitionerName
  /** key.serializer, by name. @default 'string' */
  keySerializer?: SerializerName
  /** value.serializer, by name. @default 'string' */
  valueSerializer?: SerializerName
}

export type CommitStrategyConfig =
  | { strategy: 'auto'; intervalMs?: number }
  | { strategy: 'per-message' }
  | { strategy: 'batch'; size: number }
  | { strategy: 'interval'; intervalMs: number }
  | { strategy: 'hybrid'; size: number; intervalMs: number }

/**
 * Per-record handler retries (Spring's DefaultErrorHandler with an exponential back-off).
 * @example { attempts: 3, backoffMs: 200, maxBackoffMs: 5000 } // one call, then at most two retries after ~200 and ~400 ms
 */
export interface RetryPolicy {
  /** Handler calls in all, the first one included: `3` is one call and at most two retries. */
  attempts: number
  /** Delay before the first retry, doubled for each next one, with the Java client's ±20% jitter. */
  backoffMs: number
  /** Largest delay between two calls (before jitter). @default no cap */
  maxBackoffMs?: number
}

/** Consumer settings that are plain data (what a preset can hold). */
export interface ConsumerTuning {
  /** How offsets are committed. @default { strategy: 'auto', intervalMs: 5000 } */
  commit?: CommitStrategyConfig
  /** auto.offset.reset. @default 'latest' */
  autoOffsetReset?: 'earliest' | 'latest' | 'none'
  /** isolation.level. @default 'read_uncommitted' */
  isolationLevel?: 'read_committed' | 'read_uncommitted'
  /** heartbeat.interval.ms. @default 3000 */
  heartbeatIntervalMs?: number
  /** session.timeout.ms. @default 45000 */
  sessionTimeoutMs?: number
  /** max.poll.interval.ms: longest one handler call may run. @default 300000 */
  maxPollIntervalMs?: number
  /** max.poll.records. @default 500 */
  maxPollRecords?: number
  /** fetch.min.bytes. @default 1 */
  fetchMinBytes?: number
  /** fetch.max.bytes. @default 52428800 */
  fetchMaxBytes?: number
  /** fetch.max.wait.ms. @default 500 */
  fetchMaxWaitMs?: number
  /** max.partition.fetch.bytes. @default 1048576 */
  maxPartitionFetchBytes?: number
  /** partition.assignment.strategy. @default ['range', 'cooperative-sticky'] in Java; kafkatune: ['range'] */
  partitionAssignors?: AssignorName[]
  /** How many partitions are processed in parallel. @default 1 */
  partitionsConsumedConcurrently?: number
  /**
   * Order of handling within a partition. `'partition'`: one record after another in offset order (kafkajs'
   * model). `'key'`: records with the same key one after another in offset order, different keys concurrently
   * up to `concurrency` (a null key is a key of its own per record). `'unordered'`: any order, up to
   * `concurrency`. With `'key'` and `'unordered'` commits are gap-safe: the committed offset never passes an
   * unfinished record, and what finished above it travels in the commit metadata (see README).
   * Only `eachMessage` handlers. @default 'partition'
   * @example { ordering: 'key', concurrency: 100 }
   */
  ordering?: 'partition' | 'key' | 'unordered'
  /**
   * Records handled at once per consumer with ordering `'key'` or `'unordered'` (Parallel Consumer's
   * maxConcurrency). Not used with `'partition'`, where `partitionsConsumedConcurrently` is the concurrency.
   * @default 16
   */
  concurrency?: number
  /** The broker's offset.metadata.max.bytes: the room for the offset map of `'key'`/`'unordered'`. @default 4096 */
  offsetMetadataMaxBytes?: number
  /**
   * Per-record retries before the record fails (then it goes to `deadLetterTopic`, or stops the consumer).
   * `attempts` counts calls, not retries. @default none: one call, no retry
   */
  retry?: RetryPolicy
  /** Where a record goes after its retries are spent (with its headers plus where and why). @default none: the consumer stops */
  deadLetterTopic?: string
  /** key.deserializer, by name. @default 'string' */
  keyDeserializer?: SerializerName
  /** value.deserializer, by name. @default 'string' */
  valueDeserializer?: SerializerName
}

/** Topic-level tuning applied by `admin.ensureTopic({ preset })`. */
export interface TopicTuning {
  partitions?: number
  replicationFactor?: number
  /** Topic configs by their Kafka names, e.g. `min.insync.replicas`, `retention.ms`, `cleanup.policy`. */
  config?: Record<string, string>
}

/** One reason per value a preset sets. */
export type Reasons<T> = { [K in keyof T]-?: string }

/** A preset is data: tuning for producer, consumer and topics, each value with a reason. */
export interface Preset {
  name: string
  description: string
  producer: ProducerTuning
  consumer: ConsumerTuning
  topic?: TopicTuning
  /** Set by `exactly-once` and presets extending it: producers need a transactionalId. */
  requiresTransactionalId?: boolean
  /** One-line reason per value set above, shown by `explainConfig`. */
  reasons?: {
    producer?: Partial<Record<keyof ProducerTuning, string>>
    consumer?: Partial<Record<keyof ConsumerTuning, string>>
    topic?: Partial<Record<keyof TopicTuning | `config.${string}`, string>>
  }
}

export type BuiltinPresetName = 'low-latency' | 'high-throughput' | 'exactly-once'
export type PresetRef = BuiltinPresetName | Preset

/** Where an effective value came from. */
export type SettingSource = 'default' | 'preset' | 'option'

/** One row of `explainConfig`. */
export interface ExplainRow {
  option: string
  javaProperty: string | null
  value: unknown
  source: SettingSource
  reason: string
}

export type { Serializer, SerializerName }
