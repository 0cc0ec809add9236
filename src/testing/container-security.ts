/**
 * `startKafka({ security })` in container mode: the same throwaway CA, key store and users as local mode, made on
 * the host with `openssl`, then handed to each container: the key store and CA as files in
 * {@link CONTAINER_SECRETS_DIR}, the JAAS login modules as listener properties (broker plan), and the SCRAM users
 * as `KAFKATUNE_ADD_SCRAM`, which kafkatune's image (container/run) formats the storage with.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import { removeScratchDir, trackScratchDir } from './children.js'
import type { RuntimeClient } from './container-runtime.js'
import { planSecurity } from './security.js'
import type { SecurityPlan } from './security.js'
import type { KafkaSecurity } from './types.js'

/** Where the key store and the CA certificate are copied inside each container. */
export const CONTAINER_SECRETS_DIR = '/etc/kafka/secrets'

/** The image label kafkatune's image builder (scripts/build-kafka-image.sh) sets. */
const IMAGE_LABEL = 'dev.kafkatune.inputs'

/** One file to put into every container before it starts. */
export interface ContainerFile {
  content: Buffer
  target: string
  mode: number
}

/** The security plan as the broker in the container sees it, and the files it needs. */
export interface ContainerSecurity {
  /** Key store paths inside the container; the credentials, CA and client certificate as on the host. */
  plan: SecurityPlan
  files: ContainerFile[]
}

/**
 * Certificates and users for a container cluster. The files are read into memory and the host's scratch folder is
 * removed at once: nothing secret stays on the host's disk. `host` (the address clients use) joins the broker
 * certificate's names when it is not loopback.
 */
export function planContainerSecurity(security: KafkaSecurity, host: string): ContainerSecurity {
  const dir = mkdtempSync(join(tmpdir(), 'kafkatune-tls-'))
  trackScratchDir(dir)
  try {
    const hostPlan = planSecurity(security, dir, [host])
    if (hostPlan.keystore === '') return { plan: hostPlan, files: [] }
    const keystore = `${CONTAINER_SECRETS_DIR}/broker.p12`
    const truststore = `${CONTAINER_SECRETS_DIR}/ca.crt`
    return {
      plan: { ...hostPlan, keystore, truststore },
      files: [
        { content: readFileSync(hostPlan.keystore), target: keystore, mode: 0o600 },
        { content: readFileSync(hostPlan.truststore), target: truststore, mode: 0o644 },
      ],
    }
  } finally {
    removeScratchDir(dir)
  }
}

/**
 * Secured listeners need kafkatune's image: the official `apache/kafka` start script creates no SCRAM users and
 * demands its own `KAFKA_SSL_*` file variables. Refused before anything starts, with what to do instead.
 */
export async function requireKafkatuneImage(client: RuntimeClient, image: string): Promise<void> {
  const labels = await client.container.dockerode
    .getImage(image)
    .inspect()
    .then(
      (info) => (info.Config?.Labels ?? {}) as Record<string, string>,
      () => ({}) as Record<string, string>,
    )
  if (labels[IMAGE_LABEL] !== undefined) return
  throw new ConfigError(
    [
      {
        option: 'security',
        message:
          `secured listeners in container mode need kafkatune's Kafka image (scripts/build-kafka-image.sh, then KAFKATUNE_KAFKA_IMAGE=<what it prints>); '${image}' is not one (or is not on this machine). ` +
          "Or use mode 'local' (KAFKATUNE_KAFKA_MODE=local) with Java 17+",
      },
    ],
    'startKafka() options',
  )
}
