#!/usr/bin/env node
/**
 * Where the kafkatune `high-throughput` producer's peak RSS goes: the peers benchmark's kafkatune producer
 * contender (same records, same 16,384-promise window) with `process.memoryUsage()` sampled every 20 ms.
 * Prints RSS after import and after connect (the baseline), then the peak RSS and, at that sample and as
 * maxima over the run, V8 heap (total, used), external and arrayBuffers (Buffers' backing stores).
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node --expose-gc bench/producer-memory.mjs [lz4|none] [bytes] [records]
 *   BENCH_DIST=/tmp/other/dist ...   # another build of kafkatune (default: this checkout's dist)
 */
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { payloads } from './peers/common.mjs'

const MB = 1048576
const here = dirname(fileURLToPath(import.meta.url))
const dist = process.env.BENCH_DIST ?? join(here, '..', 'dist')
const [compression = 'lz4', bytesArg = '100', countArg = '200000'] = process.argv.slice(2)
const bytes = Number(bytesArg)
const count = Number(countArg)
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean)
if (brokers.length === 0) throw new Error('set KAFKA_BROKERS')

const mb = (n) => Math.round((n / MB) * 10) / 10
const start = process.memoryUsage()
const { pino } = await import('pino')
const { default: kafkajs } = await import('kafkajs')
const { createProducer, serializers } = await import(pathToFileURL(join(dist, 'index.js')).href)
const afterImport = process.memoryUsage()

const topic = `memory-${compression}-${bytes}-${Date.now()}`
const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, clientId: 'bench-admin' }).admin()
await admin.connect()
await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: false })
for (;;) {
  const md = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null)
  if (md !== null && md.topics[0].partitions.filter((p) => p.leader >= 0).length === 6) break
  await new Promise((r) => setTimeout(r, 100))
}

const producer = createProducer({ brokers, logger: pino({ level: 'silent' }), preset: 'high-throughput', compression, valueSerializer: serializers.bytes() })
await producer.connect()
const values = payloads(bytes)
await producer.send({ topic, value: values[0] })
if (global.gc) global.gc()
const afterConnect = process.memoryUsage()

const fields = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers']
const max = Object.fromEntries(fields.map((f) => [f, 0]))
let atPeak = afterConnect
const sample = () => {
  const m = process.memoryUsage()
  for (const f of fields) max[f] = Math.max(max[f], m[f])
  if (m.rss >= atPeak.rss) atPeak = m
}
const timer = setInterval(sample, 20)
const window = Math.min(16_384, Math.max(1000, Math.floor(producer.metrics().bufferMemory / (bytes + 21))))
const pending = new Array(window)
const t0 = performance.now()
for (let i = 0; i < count; i++) {
  const slot = i % window
  if (pending[slot] !== undefined) await pending[slot]
  pending[slot] = producer.send({ topic, value: values[i % values.length] })
  if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
}
await producer.flush()
const seconds = (performance.now() - t0) / 1000
sample()
clearInterval(timer)
await producer.disconnect()
await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
await admin.disconnect()

const row = (m) => Object.fromEntries(fields.map((f) => [f, mb(m[f])]))
console.log(JSON.stringify({ dist, compression, bytes, count, recordsPerSecond: Math.round(count / seconds), start: row(start), afterImport: row(afterImport), afterConnect: row(afterConnect), atPeakRss: row(atPeak), maxima: row(max) }))
process.exit(0)
