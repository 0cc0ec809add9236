#!/usr/bin/env node
// `npm test` runs the integration suite once on the broker `startKafka()` picks (a container when a
// runtime answers, else the local JVM broker). This runs the kafkajs smoke suite and the SDK's
// round-trip tests a second time on the other path, so both paths are tested where both exist.
import { spawnSync } from 'node:child_process'
import { containerRuntimeAvailable } from '../dist/testing.js'

const SUBSET = [
  'test/integration/kafkajs-smoke.test.ts',
  'test/integration/producer.test.ts',
  'test/integration/consumer.test.ts',
  'test/integration/pipeline.test.ts',
]

if (process.env.KAFKA_BROKERS) {
  console.log('second path: KAFKA_BROKERS is set, the suite ran on that cluster only')
  process.exit(0)
}
const forced = process.env.KAFKATUNE_KAFKA_MODE
const firstWasContainer = forced ? forced === 'container' : await containerRuntimeAvailable()
if (!firstWasContainer) {
  console.log('second path: no container runtime answers, so the suite ran on the local JVM broker only (see docs/testing.md)')
  process.exit(0)
}
console.log('second path: the suite ran on a container broker; running the round-trip subset on the local JVM broker')
const res = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', 'integration', ...SUBSET], {
  stdio: 'inherit',
  env: { ...process.env, KAFKATUNE_KAFKA_MODE: 'local' },
})
process.exit(res.status ?? 1)
