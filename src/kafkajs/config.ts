import {
  CompressionTypes,
  logLevel as KafkajsLogLevel,
  Partitioners,
  type ConsumerConfig,
  type KafkaConfig,
  type LogEntry,
  type PartitionAssigner,
  type ProducerConfig,
  type SASLOptions,
} from 'kafkajs'
import { cachingTokenProvider } from '../security/oauth.js'
import type { Logger } from '../logging/types.js'
import { clientLogger } from '../logging/fields.js'
import type { ClientLogFields } from '../logging/fields.js'
import type { ConsumerSettings, ProducerSettings, ResolvedConnection } from '../config/resolved.js'
import type { CompressionName, SaslOptions } from '../config/types.js'

function kafkajsLevel(logger: Logger): KafkajsLogLevel {
  // A logger without pino's `level` gets every kafkajs line and filters them itself.
  switch (logger.level) {
    case 'silent':
      return KafkajsLogLevel.NOTHING
    case 'fatal':
    case 'error':
      return KafkajsLogLevel.ERROR
    case 'warn':
      return KafkajsLogLevel.WARN
    case 'info':
      return KafkajsLogLevel.INFO
    default:
      return KafkajsLogLevel.DEBUG
  }
}

/**
 * Bridges kafkajs's log lines into the client's logger: child `{ component: 'kafkajs', clientId, groupId? }`,
 * and `namespace` plus kafkajs's own fields on each line (minus those the child already carries).
 */
export function kafkajsLogCreator(logger: Logger, fields: ClientLogFields): KafkaConfig['logCreator'] {
  const child = clientLogger(logger, 'kafkajs', fields)
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, clientId: _c, groupId, ...extra } = log as LogEntry['log'] & { logger?: string; clientId?: unknown; groupId?: unknown }
      // A group kafkajs names that is not the client's (a transactional id's coordinator lookup) gets its own key.
      const line = groupId === undefined || groupId === fields.groupId ? { namespace, ...extra } : fields.groupId === undefined ? { namespace, groupId, ...extra } : { namespace, kafkajsGroupId: groupId, ...extra }
      // kafkajs logs at ERROR every answer it retries (CONCURRENT_TRANSACTIONS, coordinator moves, a broker
      // restarting) and every crash it restarts from: normal operation, so `debug`. What still fails after
      // the retries reaches the caller as a KafkatuneError and is logged once, at `error`, by kafkatune.
      if (level === KafkajsLogLevel.ERROR) child.debug(line, message)
      else if (level === KafkajsLogLevel.WARN) child.warn(line, message)
      else if (level === KafkajsLogLevel.INFO) child.info(line, message)
      else child.debug(line, message)
    }
}

/** The log fields of a client: its clientId, and its groupId when it is a consumer's or a pipeline's. */
export function logFields(settings: ResolvedConnection & { groupId?: unknown }): ClientLogFields {
  return typeof settings.groupId === 'string' ? { clientId: settings.clientId, groupId: settings.groupId } : { clientId: settings.clientId }
}

/** kafkajs client config: connection, TLS, SASL, logging; the `kafkajs` escape hatch is merged last. */
export function toKafkajsClientConfig(settings: ResolvedConnection & { requestTimeoutMs?: number }): KafkaConfig {
  const config: KafkaConfig = {
    brokers: [...settings.brokers],
    clientId: settings.clientId,
    connectionTimeout: 10_000,
    logLevel: kafkajsLevel(settings.logger),
    logCreator: kafkajsLogCreator(settings.logger, logFields(settings)),
  }
  if (settings.requestTimeoutMs !== undefined) {
    config.requestTimeout = settings.requestTimeoutMs
    config.enforceRequestTimeout = true
  }
  if (settings.ssl !== undefined) config.ssl = settings.ssl
  if (settings.sasl !== undefined) config.sasl = toKafkajsSasl(settings.sasl)
  return { ...config, ...settings.kafkajs }
}

/** A fresh copy per client (kafkajs stores its authenticator on the object); OAUTHBEARER tokens cached until 80% of their lifetime. */
export function toKafkajsSasl(sasl: SaslOptions): NonNullable<KafkaConfig['sasl']> {
  if ('authenticationProvider' in sasl) return { mechanism: sasl.mechanism, authenticationProvider: sasl.authenticationProvider }
  if (sasl.mechanism === 'oauthbearer' && 'oauthBearerProvider' in sasl) {
    return { mechanism: 'oauthbearer', oauthBearerProvider: cachingTokenProvider(sasl.oauthBearerProvider) }
  }
  return { ...sasl } as SASLOptions
}

const CODECS: Record<CompressionName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

/** The kafkajs compression type for a compression name. */
export function kafkajsCompression(name: CompressionName): CompressionTypes {
  return CODECS[name]
}

/**
 * kafkajs `producer()` config. kafkajs forgets the retry count of idempotent producers (5 instead
 * of unlimited), so it is always set here from `retries`.
 */
export function toKafkajsProducerConfig<K, V>(settings: ProducerSettings<K, V>): ProducerConfig {
  const config: ProducerConfig = {
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: settings.idempotent,
    maxInFlightRequests: settings.maxInFlightRequests,
    allowAutoTopicCreation: true,
    transactionTimeout: settings.transactionTimeoutMs,
    retry: {
      // Java's "unlimited" (Integer.MAX_VALUE) is kafkajs's MAX_SAFE_INTEGER: anything lower makes
      // kafkajs warn that EoS guarantees may break. delivery.timeout.ms bounds the time instead.
      retries: settings.retries >= 2_147_483_647 ? Number.MAX_SAFE_INTEGER : settings.retries,
      initialRetryTime: settings.retryBackoffMs,
      maxRetryTime: settings.retryBackoffMaxMs,
    },
  }
  if (settings.transactionalId !== null) config.transactionalId = settings.transactionalId
  return config
}

/** Options kafkajs takes per `send()` call: acks, timeout, compression. */
export function kafkajsSendOptions<K, V>(settings: ProducerSettings<K, V>): { acks: -1 | 0 | 1; timeout: number; compression: CompressionTypes } {
  return {
    acks: settings.acks === 'all' ? -1 : settings.acks,
    timeout: settings.requestTimeoutMs,
    compression: kafkajsCompression(settings.compression),
  }
}

/**
 * kafkajs `consumer()` config. The rebalance timeout follows max.poll.interval.ms as in the Java
 * client; commits are left to kafkatune's commit strategies.
 */
export function toKafkajsConsumerConfig<K, V>(settings: ConsumerSettings<K, V>, partitionAssigners?: PartitionAssigner[]): ConsumerConfig {
  const config: ConsumerConfig = {
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    rebalanceTimeout: settings.maxPollIntervalMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    minBytes: settings.fetchMinBytes,
    maxBytes: settings.fetchMaxBytes,
    maxBytesPerPartition: settings.maxPartitionFetchBytes,
    maxWaitTimeInMs: settings.fetchMaxWaitMs,
    readUncommitted: settings.isolationLevel === 'read_uncommitted',
    allowAutoTopicCreation: false,
  }
  if (partitionAssigners?.length) config.partitionAssigners = partitionAssigners
  return config
}
