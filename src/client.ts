/**
 * The one place a kafkajs client is built: producer, consumer and admin code get their `Kafka`
 * instance here, from resolved settings, so logging, TLS, SASL and the escape hatch apply everywhere.
 */
import { Kafka } from 'kafkajs'
import type { KafkaConfig, LogEntry, logLevel } from 'kafkajs'
import { registerCodecs } from './codecs/index.js'
import { toKafkajsClientConfig } from './config/index.js'
import { useKafkatuneFetchDecoder } from './kafkajs/fetch-decoder.js'
import type { ResolvedConnection } from './config/index.js'

/**
 * kafkajs warns about this on every idempotent producer kafkatune creates, but the limit is deliberate:
 * kafkatune's sender owns produce retries (back-off, delivery timeout, ordering), kafkajs gets one.
 */
const DELIBERATE_WARNINGS = ['Limiting retries for the idempotent producer']

function withoutDeliberateWarnings(logCreator: NonNullable<KafkaConfig['logCreator']>): KafkaConfig['logCreator'] {
  return (level: logLevel) => {
    const log = logCreator(level)
    return (entry: LogEntry) => {
      const message = entry.log.message
      if (entry.namespace === 'Producer' && DELIBERATE_WARNINGS.some((w) => message.startsWith(w))) return
      log(entry)
    }
  }
}

/** Builds a kafkajs client from resolved connection settings (`requestTimeoutMs` when the component has one). */
export function createKafkaClient(settings: ResolvedConnection & { requestTimeoutMs?: number }): Kafka {
  // Codecs are process-wide in kafkajs: register them wherever a client is built, so a consumer-only
  // process never crashes on a snappy/lz4/zstd batch.
  registerCodecs()
  const config = toKafkajsClientConfig(settings)
  if (config.logCreator !== undefined) config.logCreator = withoutDeliberateWarnings(config.logCreator)
  const kafka = new Kafka(config)
  // Fetched record batches of this client's consumers go through kafkatune's decoder (CRC checked, one
  // decompression per batch, zero-copy keys and values); kafkajs's modules and other clients are untouched.
  useKafkatuneFetchDecoder(kafka)
  return kafka
}
