#!/usr/bin/env node
/**
 * What tracing costs the producer: the 'high-throughput' preset sending 100 B records (as bench/producer.mjs
 * scenario c) with tracing off (`@opentelemetry/api` installed, no tracer provider registered), with tracing on
 * (an SDK tracer provider, a batch span processor and an exporter that drops the spans), and optionally the
 * same with a build of kafkatune from before tracing (`BENCH_BASE_DIST`). Each run is its own process (the
 * global tracer provider is process-wide) on a fresh 6-partition topic; the modes alternate over the rounds.
 *
 *   npm run build && node bench/tracing.mjs                    # starts its own broker (startKafka)
 *   BENCH_BASE_DIST=/tmp/kt-base/dist node bench/tracing.mjs   # also the build without tracing
 *   BENCH_ROUNDS=5 BENCH_RECORDS=200000 node bench/tracing.mjs
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import kafkajs from 'kafkajs'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const OWN_DIST = fileURLToPath(new URL('../dist', import.meta.url))

async function child(mode, dist, brokers, topic) {
  if (mode === 'on') {
    const { context, propagation, trace } = await import('@opentelemetry/api')
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
    const drop = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined }
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(drop, { maxQueueSize: 65_536, maxExportBatchSize: 4096 })] }))
  }
  const { createProducer, serializers } = await import(pathToFileURL(`${dist}/index.js`).href)
  const { pino } = await import('pino')
  const producer = createProducer({ brokers, logger: pino({ level: 'silent' }), preset: 'high-throughput', valueSerializer: serializers.bytes() })
  await producer.connect()
  const values = Array.from({ length: 16_384 }, () => Buffer.from(randomBytes(100).toString('base64').slice(0, 100)))
  // As bench/producer.mjs: at most a buffer's worth outstanding, a yield every 1,000 sends.
  const window = Math.max(1000, Math.floor(producer.metrics().bufferMemory / 121))
  const pending = new Array(window)
  const sendAll = async (count) => {
    for (let i = 0; i < count; i++) {
      const slot = i % window
      if (pending[slot] !== undefined) await pending[slot]
      pending[slot] = producer.send({ topic, value: values[i % values.length] })
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
    }
    await producer.flush()
    pending.fill(undefined)
  }
  // Warm-up: metadata, connections, JIT.
  await sendAll(20_000)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await sendAll(RECORDS)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await producer.disconnect()
  process.stdout.write(JSON.stringify({ recordsPerSec: RECORDS / seconds, cpuSecPerMillion: ((cpu.user + cpu.system) / 1e6 / RECORDS) * 1e6 }) + '\n')
}

function run(mode, dist, brokers, topic) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, dist, brokers.join(','), topic], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.on('error', reject)
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${mode} run exited with ${code}`))))
  })
}

/** Not `waitForLeaders`: on KRaft kafkajs 2.2.4 may fail it with UNKNOWN_TOPIC_OR_PARTITION instead of retrying. */
async function createTopic(admin, topic) {
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: false })
  for (let i = 0; i < 300; i++) {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null)
    const parts = meta?.topics[0]?.partitions ?? []
    if (parts.length === 6 && parts.every((p) => p.leader >= 0)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`topic ${topic} has no leaders after 30 s`)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  let handle = null
  let brokers = process.env.KAFKA_BROKERS?.split(',')
  if (brokers === undefined) {
    const { startKafka } = await import(pathToFileURL(`${OWN_DIST}/testing.js`).href)
    handle = await startKafka({ nodes: 1 })
    brokers = handle.brokers
  }
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin()
  await admin.connect()
  const modes = [['off', OWN_DIST], ['on', OWN_DIST]]
  if (process.env.BENCH_BASE_DIST) modes.unshift(['base', process.env.BENCH_BASE_DIST])
  const results = Object.fromEntries(modes.map(([m]) => [m, []]))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < modes.length; i++) {
        const [mode, dist] = modes[(i + round) % modes.length]
        const topic = `bench-tracing-${mode}-${Date.now()}`
        await createTopic(admin, topic)
        const r = await run(mode, dist, brokers, topic)
        results[mode].push(r)
        console.log(`round ${round + 1} ${mode.padEnd(4)} ${r.recordsPerSec.toFixed(0).padStart(8)} rec/s cpu ${r.cpuSecPerMillion.toFixed(2)} s/M`)
        await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
      }
    }
  } finally {
    await admin.disconnect()
    await handle?.stop()
  }
  console.log(`\n| mode | runs | median rec/s | median CPU s / M rec | rec/s of each run |\n|---|---:|---:|---:|---|`)
  for (const [mode] of modes) {
    const rs = results[mode]
    console.log(`| ${mode} | ${rs.length} | ${median(rs.map((r) => r.recordsPerSec)).toFixed(0)} | ${median(rs.map((r) => r.cpuSecPerMillion)).toFixed(2)} | ${rs.map((r) => r.recordsPerSec.toFixed(0)).join(', ')} |`)
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5].split(','), process.argv[6])
else await main()
