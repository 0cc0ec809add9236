#!/usr/bin/env node
// `npm run kafka`: start a real Apache Kafka broker for local development and keep it up until Ctrl-C.
// Uses the built package (run `npm run build` first). Options: `--nodes 3`, `--mode local|container|external`.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dist = new URL('../dist/testing.js', import.meta.url)
if (!existsSync(fileURLToPath(dist))) {
  process.stderr.write('kafkatune: dist/testing.js is missing; run `npm run build` first.\n')
  process.exit(1)
}
const { startKafka } = await import(dist.href)

const args = process.argv.slice(2)
const flag = (name) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const nodes = Number(flag('nodes') ?? 1)
const mode = flag('mode')

const started = Date.now()
let kafka
try {
  kafka = await startKafka({ nodes, ...(mode === undefined ? {} : { mode }) })
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
process.stderr.write(`kafkatune: Kafka (${kafka.mode}, ${kafka.nodes.length || 'external'} node(s)) ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
for (const n of kafka.nodes) process.stderr.write(`  node ${n.nodeId}: ${n.brokerAddress} (pid ${n.pid ?? '-'})\n`)
// The bootstrap list alone on stdout, so `KAFKA_BROKERS=$(npm run -s kafka | head -1)` style use works.
process.stdout.write(`${kafka.brokers.join(',')}\n`)
process.stderr.write('kafkatune: press Ctrl-C to stop\n')

// Keep the process alive; the brokers themselves do not hold the event loop.
const keepAlive = setInterval(() => {}, 1 << 30)
let stopping = false
const shutdown = async (signal) => {
  if (stopping) return
  stopping = true
  process.stderr.write(`\nkafkatune: ${signal}, stopping Kafka...\n`)
  try {
    await kafka.stop()
    process.stderr.write('kafkatune: stopped\n')
  } finally {
    clearInterval(keepAlive)
    process.exit(0)
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
