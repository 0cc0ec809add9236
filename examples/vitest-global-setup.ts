/**
 * A vitest `globalSetup` that starts one real Kafka for the whole test run and hands its bootstrap servers to
 * every test file (see docs/testing.md).
 *
 * vitest.config.ts:
 *   export default defineConfig({ test: { globalSetup: ['./test/kafka-global-setup.ts'], hookTimeout: 240_000 } })
 * In a test file:
 *   import { inject } from 'vitest'
 *   const kafka = new Kafka({ clientId: 'test', brokers: inject('kafkaBrokers') })
 *
 * Which Kafka: `KAFKA_BROKERS=host:port` uses yours; else a container (Docker or Podman, needs the
 * `testcontainers` dev dependency); else Apache Kafka started locally with Java 17+.
 */
import type { TestProject } from 'vitest/node'
import { startKafka } from 'kafkatune/testing'
import type { KafkaHandle } from 'kafkatune/testing'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers of the Kafka started for this test run (`host:port`). */
    kafkaBrokers: string[]
  }
}

let kafka: KafkaHandle | undefined

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  kafka = await startKafka({ nodes: 1 })
  console.log(`Kafka (${kafka.mode}) at ${kafka.brokers.join(',')}`)
  project.provide('kafkaBrokers', kafka.brokers)
  // vitest calls this after the last test file, also when tests failed.
  return async () => {
    await kafka?.stop()
    kafka = undefined
  }
}
