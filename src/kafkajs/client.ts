/**
 * The one place a kafkajs client is built: producer, consumer and admin code get their `Kafka`
 * instance here, from resolved settings, so logging, TLS, SASL and the escape hatch apply everywhere.
 */
import { Kafka } from 'kafkajs'
import type { KafkaConfig, LogEntry, logLevel } from 'kafkajs'
import { registerLazyCodecs } from './codecs.js'
import { toKafkajsClientConfig } from '../config/index.js'
import type { ResolvedConnection } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { patchRequestQueueTimer } from './timer-patch.js'
import { useKafkatuneFetchDecoder } from './fetch-decoder.js'
import { hideFromKafkajsInstrumentation } from '../observability/tracing-kafkajs.js'
import { classifyAuthError, classifyTlsConnectError, TransportWatch, watchedSocketFactory } from '../security/transport.js'

interface ClientSecurity {
  watch: TransportWatch
  mechanism: string | undefined
  username: string | undefined
}

const security = new WeakMap<Kafka, ClientSecurity>()

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
  // process never crashes on a snappy/lz4/zstd batch; each package loads when first needed.
  registerLazyCodecs()
  patchRequestQueueTimer()
  const config = toKafkajsClientConfig(settings)
  if (config.logCreator !== undefined) config.logCreator = withoutDeliberateWarnings(config.logCreator)
  const watch = new TransportWatch()
  config.socketFactory = watchedSocketFactory(watch, config.socketFactory)
  const kafka = new Kafka(config)
  const sasl = settings.sasl as { mechanism?: string; username?: unknown } | undefined
  security.set(kafka, { watch, mechanism: sasl?.mechanism, username: typeof sasl?.username === 'string' ? sasl.username : undefined })
  // Fetched record batches of this client's consumers go through kafkatune's decoder (CRC checked, one
  // decompression per batch, zero-copy keys and values); kafkajs's modules and other clients are untouched.
  useKafkatuneFetchDecoder(kafka)
  // kafkatune makes the spans of its records itself: kafkajs auto-instrumentation would double them.
  hideFromKafkajsInstrumentation(kafka)
  return kafka
}

/**
 * The error a failed connect should surface: `AUTHENTICATION` for a SASL failure, `TLS` for a TLS mistake that
 * kafkajs retried, else the error as it is.
 */
export function connectError(kafka: Kafka, err: unknown): unknown {
  // kafkatune's own errors pass through, except the generic KAFKA wrapper of a kafkajs failure.
  if (err instanceof KafkatuneError && err.code !== 'KAFKA') return err
  const s = security.get(kafka)
  return classifyAuthError(err, s?.mechanism, s?.username) ?? classifyTlsConnectError(err) ?? err
}

/**
 * Runs a kafkajs connect (`fn`) and ends it at once when a socket of this client shows a TLS mistake no retry
 * can fix (kafkajs would retry it for its whole budget); `onAbandon` then stops what `fn` started (kafkajs's
 * retries run out by themselves, and their outcome is ignored). SASL failures become `AUTHENTICATION`.
 */
export async function guardConnect<T>(kafka: Kafka, fn: () => Promise<T>, onAbandon?: () => Promise<unknown>): Promise<T> {
  const s = security.get(kafka)
  if (s === undefined) return fn()
  let unsubscribe = (): void => undefined
  let abandoned = false
  const fatal = new Promise<never>((_, reject) => {
    unsubscribe = s.watch.subscribe((err) => {
      abandoned = true
      reject(err)
    })
  })
  const attempt = fn()
  try {
    return await Promise.race([attempt, fatal])
  } catch (err) {
    if (abandoned) {
      attempt.catch(() => undefined)
      if (onAbandon !== undefined) void onAbandon().catch(() => undefined)
    }
    throw connectError(kafka, err)
  } finally {
    unsubscribe()
  }
}
