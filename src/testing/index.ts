/**
 * `kafkatune/testing`: a real Kafka for tests, benchmarks and demos. Never a fake.
 * @example
 * const kafka = await startKafka()
 * try { ... kafka.brokers ... } finally { await kafka.stop() }
 */
import { ConfigError, KafkatuneError } from '../errors.js'
import { checkBrokerConfig } from './broker-config.js'
import { checkSecurity } from './security.js'
import { containerRuntimeAvailable, startContainerKafka } from './container.js'
import { startLocalKafka } from './local.js'
import type { KafkaHandle, KafkaMode, StartKafkaOptions } from './types.js'

export type {
  KafkaHandle,
  KafkaMode,
  KafkaSecurity,
  KafkaSecurityInfo,
  NodeControl,
  SecureListener,
  StartKafkaOptions,
  TestConnection,
  TestSaslMechanism,
} from './types.js'
export { ensureKafkaJars, kafkaLibsDir, KAFKA_VERSION } from './jars.js'
export { startLocalKafka } from './local.js'
export { containerRuntimeAvailable, startContainerKafka, DEFAULT_KAFKA_IMAGE } from './container.js'

const MODES: readonly string[] = ['auto', 'external', 'container', 'local']

/** Bootstrap servers from env `KAFKA_BROKERS` (comma-separated), or undefined when unset or empty. */
export function brokersFromEnv(): string[] | undefined {
  const raw = process.env.KAFKA_BROKERS
  if (raw === undefined) return undefined
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  return list.length > 0 ? list : undefined
}

function externalHandle(brokers: string[]): KafkaHandle {
  return { brokers, mode: 'external', nodes: [], stop: async () => undefined }
}

/**
 * Start (or find) a real Kafka: `KAFKA_BROKERS` when set, else Testcontainers when a container runtime answers,
 * else Apache Kafka started locally from Maven Central jars with Java 17+.
 * @example
 * const kafka = await startKafka({ nodes: 3 })
 * await kafka.nodes[0]?.kill()
 * await kafka.stop()
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaHandle> {
  const envMode = process.env.KAFKATUNE_KAFKA_MODE
  const requested = envMode !== undefined && envMode !== '' ? envMode : (options.mode ?? 'auto')
  if (!MODES.includes(requested)) {
    throw new KafkatuneError('HARNESS', `kafkatune: unknown Kafka mode '${requested}' (KAFKATUNE_KAFKA_MODE / mode): use one of ${MODES.join(', ')}`, {
      retriable: false,
    })
  }
  const envImage = process.env.KAFKATUNE_KAFKA_IMAGE
  const resolved: StartKafkaOptions = {
    ...options,
    ...(envImage !== undefined && envImage !== '' ? { image: envImage } : {}),
  }
  const mode = requested as 'auto' | KafkaMode
  checkBrokerConfig(options.brokerConfig)
  checkSecurity(options.security)
  const noSecurity = (where: string): void => {
    if (options.security === undefined) return
    throw new ConfigError(
      [{ option: 'security', message: `secured listeners are started in local and container modes only, not ${where}: use mode 'local' (KAFKATUNE_KAFKA_MODE=local) with Java 17+, or 'container'` }],
      'startKafka() options',
    )
  }
  const wantsConfig = options.brokerConfig !== undefined && Object.keys(options.brokerConfig).length > 0
  const external = (list: string[]): KafkaHandle => {
    noSecurity(`for an external cluster (KAFKA_BROKERS=${list.join(',')})`)
    if (wantsConfig) {
      throw new ConfigError(
        [{ option: 'brokerConfig', message: `cannot be applied to an external cluster (KAFKA_BROKERS=${list.join(',')}); unset KAFKA_BROKERS or use mode 'local' / 'container'` }],
        'startKafka() options',
      )
    }
    return externalHandle(list)
  }
  if (mode === 'external') {
    const list = brokersFromEnv()
    if (list === undefined) {
      throw new KafkatuneError('HARNESS', `kafkatune: mode 'external' needs KAFKA_BROKERS=host:port[,host:port...]`, { retriable: false })
    }
    return external(list)
  }
  if (mode === 'container') return startContainerKafka(resolved)
  if (mode === 'local') return startLocalKafka(resolved)
  const list = brokersFromEnv()
  if (list !== undefined) return external(list)
  // Secured listeners in containers need kafkatune's own image (container-security.ts), so auto mode runs them locally.
  if (options.security === undefined && (await containerRuntimeAvailable())) return startContainerKafka(resolved)
  return startLocalKafka(resolved)
}
