#!/usr/bin/env node
// Fetch the Apache Kafka broker jars into the cache once (CI warm-up); prints the libs folder.
// Uses the built package (run `npm run build` first). A warm cache returns at once without Maven.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dist = new URL('../dist/testing.js', import.meta.url)
if (!existsSync(fileURLToPath(dist))) {
  process.stderr.write('kafkatune: dist/testing.js is missing; run `npm run build` first.\n')
  process.exit(1)
}
const { ensureKafkaJars, KAFKA_VERSION } = await import(dist.href)
const started = Date.now()
try {
  const libs = await ensureKafkaJars()
  process.stderr.write(`kafkatune: Apache Kafka ${KAFKA_VERSION} jars in ${libs} (${Date.now() - started} ms)\n`)
  process.stdout.write(`${libs}\n`)
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
