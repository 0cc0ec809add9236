// Placeholder until the Testcontainers/Podman path lands (owned by the container engineer, who replaces this file).
import { KafkatuneError } from '../errors.js'
import type { KafkaHandle, StartKafkaOptions } from './types.js'

/** True when a container runtime (Docker or Podman) answers; always false in this placeholder. */
export async function containerRuntimeAvailable(): Promise<boolean> {
  return false
}

/** Start Kafka in containers; not available in this placeholder. */
export async function startContainerKafka(_options: StartKafkaOptions = {}): Promise<KafkaHandle> {
  throw new KafkatuneError('HARNESS', 'container mode not available yet', { retriable: false })
}
