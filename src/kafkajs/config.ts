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
import type { Logger } from 'pino'
import { COMPRESSION_IDS } from '../protocol/types.js'
import { CONSUMER_SETTINGS, GROUP_ID, PRODUCER_SETTINGS, TRANSACTIONAL_ID, type AnySetting, type KafkajsMapping } from '../config/settings/index.js'
import type { ConsumerSettings, ProducerSettings, ResolvedConnection } from '../config/resolved.js'
import type { CompressionName, SaslOptions } from '../config/types.js'

function kafkajsLevel(logger: Logger): KafkajsLogLevel {
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

/** Bridges kafkajs's log lines into a pino logger (child `{ component: 'kafkajs', namespace }`). */
export function kafkajsLogCreator(logger: Logger): KafkaConfig['logCreator'] {
  const child = logger.child({ component: 'kafkajs' })
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log as LogEntry['log'] & { logger?: string }
      const fields = { namespace, ...extra }
      // kafkajs logs at ERROR every answer it retries (CONCURRENT_TRANSACTIONS, coordinator moves, a broker
      // restarting) and every crash it restarts from: normal operation, so `debug`. What still fails after
      // the retries reaches the caller as a KafkatuneError and is logged once, at `error`, by kafkatune.
      if (level === KafkajsLogLevel.ERROR) child.debug(fields, message)
      else if (level === KafkajsLogLevel.WARN) child.warn(fields, message)
      else if (level === KafkajsLogLevel.INFO) child.info(fields, message)
      else child.debug(fields, message)
    }
}

/** kafkajs client config: connection, TLS, SASL, logging; the `kafkajs` escape hatch is merged last. */
export function toKafkajsClientConfig(settings: ResolvedConnection & { requestTimeoutMs?: number }): KafkaConfig {
  const config: KafkaConfig = {
    brokers: [...settings.brokers],
    clientId: settings.clientId,
    connectionTimeout: 10_000,
    logLevel: kafkajsLevel(settings.logger),
    logCreator: kafkajsLogCreator(settings.logger),
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

/** The kafkajs compression type for a compression name (kafkajs numbers them as Kafka's batch attributes do). */
export function kafkajsCompression(name: CompressionName): CompressionTypes {
  return COMPRESSION_IDS[name] as number as CompressionTypes
}

/**
 * The kafkajs options the settings table maps `settings` to, for one kafkajs config object. An unset value
 * (null: no transactionalId) is left out, so kafkajs keeps its own default.
 */
function mapped(to: KafkajsMapping<never>['to'], table: Readonly<Record<string, AnySetting>>, settings: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [option, setting] of Object.entries(table)) {
    const value = (settings as Record<string, unknown>)[option]
    if (value === undefined || value === null) continue
    for (const m of setting.kafkajs ?? []) {
      if (m.to !== to) continue
      const converted = 'convert' in m && m.convert !== undefined ? m.convert(value as never) : value
      const [key, nested] = m.option.split('.') as [string, string | undefined]
      if (nested === undefined) out[key] = converted
      else out[key] = { ...(out[key] as object | undefined), [nested]: converted }
    }
  }
  return out
}

const PRODUCER_TABLE = { ...PRODUCER_SETTINGS, transactionalId: TRANSACTIONAL_ID }
const CONSUMER_TABLE = { ...CONSUMER_SETTINGS, groupId: GROUP_ID }

/** kafkajs `producer()` config: what the settings table maps to the producer (idempotence, retries, transactions). */
export function toKafkajsProducerConfig<K, V>(settings: ProducerSettings<K, V>): ProducerConfig {
  return {
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: true,
    ...mapped('producer', PRODUCER_TABLE, settings),
  }
}

/** Options kafkajs takes per `send()` call: acks, timeout, compression. */
export function kafkajsSendOptions<K, V>(settings: ProducerSettings<K, V>): { acks: -1 | 0 | 1; timeout: number; compression: CompressionTypes } {
  return mapped('send', PRODUCER_TABLE, settings) as { acks: -1 | 0 | 1; timeout: number; compression: CompressionTypes }
}

/**
 * kafkajs `consumer()` config: what the settings table maps to the consumer (the rebalance timeout follows
 * max.poll.interval.ms as in the Java client); commits are left to kafkatune's commit strategies.
 */
export function toKafkajsConsumerConfig<K, V>(settings: ConsumerSettings<K, V>, partitionAssigners?: PartitionAssigner[]): ConsumerConfig {
  const config: ConsumerConfig = {
    ...(mapped('consumer', CONSUMER_TABLE, settings) as Omit<ConsumerConfig, 'groupId'> & { groupId: string }),
    allowAutoTopicCreation: false,
  }
  if (partitionAssigners?.length) config.partitionAssigners = partitionAssigners
  return config
}
