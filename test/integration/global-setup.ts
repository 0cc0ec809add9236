/**
 * One real single-node broker for the whole integration run (or `KAFKA_BROKERS` when set), shared with test
 * files through vitest `provide('kafkaBrokers')`; read it with `brokers()` from `test/helpers/kafka.ts`.
 */
import type { TestProject } from 'vitest/node'
import { startKafka } from '../../src/testing/index.js'
import type { KafkaHandle } from '../../src/testing/index.js'

let kafka: KafkaHandle | undefined

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now()
  // Tests of the harness itself pick their modes explicitly; here we want the default precedence.
  kafka = await startKafka({ nodes: 1 })
  process.stderr.write(
    `[integration] Kafka (${kafka.mode}) at ${kafka.brokers.join(',')} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  )
  project.provide('kafkaBrokers', kafka.brokers)
  return async () => {
    await kafka?.stop()
    kafka = undefined
  }
}
