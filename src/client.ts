/**
 * The one place a kafkajs client is built: producer, consumer and admin code get their `Kafka`
 * instance here, from resolved settings, so logging, TLS, SASL and the escape hatch apply everywhere.
 */
import { Kafka } from 'kafkajs'
import { registerCodecs } from './codecs/index.js'
import { toKafkajsClientConfig } from './config/index.js'
import type { ResolvedConnection } from './config/index.js'

/** Builds a kafkajs client from resolved connection settings (`requestTimeoutMs` when the component has one). */
export function createKafkaClient(settings: ResolvedConnection & { requestTimeoutMs?: number }): Kafka {
  // Consumers need snappy/lz4/zstd as much as producers: kafkajs crashes on a batch it cannot decompress.
  registerCodecs()
  return new Kafka(toKafkajsClientConfig(settings))
}
