#!/usr/bin/env node
/**
 * Producer comparison, one broker, one run: kafkatune `high-throughput`, hand-tuned kafkajs (`sendBatch`
 * 1,000 records per call, 5 in flight) and @platformatic/kafka 1.x (1,000 records per `send`, 5 in flight),
 * each in its own process, at 100 B and 1 KiB, lz4 and none, acks 1, 6 partitions, null keys, interleaved
 * rounds (the contender order rotates each round); medians and ratios to kafkatune.
 *
 *   npm run build && (cd bench && npm install) && node bench/peers.mjs
 *   BENCH_ROUNDS=3 BENCH_SCALE=1 KAFKA_BROKERS=127.0.0.1:9092 node bench/peers.mjs
 *   BENCH_PROFILE=1 node bench/peers.mjs     # a CPU profile of each kafkatune run's timed window, in bench/profiles/
 *   node bench/profile-summary.mjs bench/profiles/kafkatune-100-lz4-r1.cpuprofile   # where that CPU went
 *
 * Client CPU is `process.cpuUsage()` of the contender's process over the timed window (first send to last
 * ack); peak RSS is sampled every 20 ms. The broker runs on the same machine: read the ratios, which come
 * from the same run, rather than the absolute rates.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const PARTITIONS = 6
const CHUNK = 1000
const IN_FLIGHT = 5

function payloads(bytes, count = 16_384) {
  return Array.from({ length: count }, () => Buffer.from(randomBytes(bytes).toString('base64').slice(0, bytes)))
}

/** With BENCH_PROFILE: a V8 CPU profile of the timed window only (startup and warm-up left out). */
async function profiled(fn) {
  const dir = process.env.BENCH_PROFILE_DIR
  if (!dir) return await fn()
  const { Session } = await import('node:inspector')
  const { writeFileSync } = await import('node:fs')
  const session = new Session()
  session.connect()
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))))
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 200 })
  await post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = await post('Profiler.stop')
    writeFileSync(join(dir, `${process.env.BENCH_PROFILE_NAME ?? 'profile'}.cpuprofile`), JSON.stringify(profile))
    session.disconnect()
  }
}

/** Times `fn` (which sends `count` records and resolves when all are acknowledged). */
async function timed(count, fn) {
  if (global.gc) global.gc()
  let peak = process.memoryUsage.rss()
  // memoryUsage.rss(): memoryUsage() walks the heap spaces, which showed up in profiles.
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await profiled(fn)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  return { records: count, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: Math.max(peak, process.memoryUsage.rss()) / 1048576 }
}

const contenders = {
  async kafkatune({ brokers, topic, bytes, count, compression }) {
    const { pino } = await import('pino')
    const { createProducer, serializers } = await import('../dist/index.js')
    const producer = createProducer({ brokers, logger: pino({ level: 'silent' }), preset: 'high-throughput', compression, valueSerializer: serializers.bytes() })
    await producer.connect()
    const values = payloads(bytes)
    await producer.send({ topic, value: values[0] })
    const window = Math.max(1000, Math.floor(producer.metrics().bufferMemory / (bytes + 21)))
    const result = await timed(count, async () => {
      const pending = new Array(window)
      for (let i = 0; i < count; i++) {
        const slot = i % window
        if (pending[slot] !== undefined) await pending[slot]
        pending[slot] = producer.send({ topic, value: values[i % values.length] })
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
      }
      await producer.flush()
    })
    const m = producer.metrics()
    result.batchRecordsAvg = m.batchRecordsAvg
    await producer.disconnect()
    return result
  },

  async kafkajs({ brokers, topic, bytes, count, compression }) {
    const { default: kafkajs } = await import('kafkajs')
    const { registerCodecs } = await import('../dist/index.js')
    registerCodecs()
    const { Kafka, logLevel, CompressionTypes } = kafkajs
    const type = compression === 'lz4' ? CompressionTypes.LZ4 : CompressionTypes.None
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench-kafkajs' })
    const producer = kafka.producer()
    await producer.connect()
    const values = payloads(bytes)
    await producer.send({ topic, acks: 1, compression: type, messages: [{ value: values[0] }] })
    const result = await timed(count, async () => {
      let next = 0
      const worker = async () => {
        while (next < count) {
          const from = next
          const to = Math.min(count, from + CHUNK)
          next = to
          const messages = []
          for (let i = from; i < to; i++) messages.push({ value: values[i % values.length] })
          await producer.sendBatch({ acks: 1, compression: type, topicMessages: [{ topic, messages }] })
        }
      }
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    })
    await producer.disconnect()
    return result
  },

  async platformatic({ brokers, topic, bytes, count, compression }) {
    const { Producer, ProduceAcks } = await import('@platformatic/kafka')
    const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: brokers, acks: ProduceAcks.LEADER, compression, idempotent: false, autocreateTopics: false })
    const values = payloads(bytes)
    await producer.send({ messages: [{ topic, value: values[0] }], acks: ProduceAcks.LEADER, compression })
    const result = await timed(count, async () => {
      let next = 0
      const worker = async () => {
        while (next < count) {
          const from = next
          const to = Math.min(count, from + CHUNK)
          next = to
          const messages = []
          for (let i = from; i < to; i++) messages.push({ topic, value: values[i % values.length] })
          await producer.send({ messages, acks: ProduceAcks.LEADER, compression })
        }
      }
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    })
    await producer.close()
    return result
  },
}

async function child() {
  const [name, json] = process.argv.slice(3)
  const result = await contenders[name](JSON.parse(json))
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
}

function runChild(name, args, profileDir, profileName) {
  const env = profileDir === null ? process.env : { ...process.env, BENCH_PROFILE_DIR: profileDir, BENCH_PROFILE_NAME: profileName }
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', name, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    p.stdout.on('data', (c) => (out += c))
    p.stderr.on('data', (c) => (err = (err + c).slice(-3000)))
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      if (code !== 0 || line === undefined) reject(new Error(`${name} exited ${code}: ${err}`))
      else resolve(JSON.parse(line.slice(7)))
    })
  })
}

/** Creates a topic and polls until every partition has a leader (kafkajs's waitForLeaders can throw UNKNOWN_TOPIC_OR_PARTITION right after creation). */
async function createTopic(admin, topic) {
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: false })
  for (let i = 0; i < 200; i++) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] })
      const parts = md.topics[0]?.partitions ?? []
      if (parts.length === PARTITIONS && parts.every((p) => p.leader >= 0)) return
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`topic ${topic} has no leaders after 10 s`)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main() {
  const scale = Number(process.env.BENCH_SCALE ?? 1)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const names = (process.env.BENCH_CONTENDERS ?? 'kafkatune,kafkajs,platformatic').split(',')
  const profileDir = process.env.BENCH_PROFILE ? join(here, 'profiles') : null
  if (profileDir !== null) mkdirSync(profileDir, { recursive: true })
  const { default: kafkajs } = await import('kafkajs')
  let handle = null
  let brokers = process.env.KAFKA_BROKERS?.split(',')
  if (brokers === undefined) {
    const { startKafka } = await import('../dist/testing.js')
    handle = await startKafka({ nodes: 1 })
    brokers = handle.brokers
  }
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, clientId: 'bench-admin' }).admin()
  await admin.connect()
  const configs = [
    { label: '100 B', bytes: 100, count: Math.round(200_000 * scale) },
    { label: '1 KiB', bytes: 1024, count: Math.round(100_000 * scale) },
  ].flatMap((s) => ['lz4', 'none'].map((compression) => ({ ...s, compression })))
  const results = new Map()
  let seq = 0
  try {
    for (let round = 0; round < rounds; round++) {
      for (const cfg of configs) {
        const order = names.map((_, i) => names[(i + round) % names.length])
        for (const name of order) {
          const topic = `peers-${name}-${Date.now()}-${seq++}`
          await createTopic(admin, topic)
          const r = await runChild(name, { brokers, topic, bytes: cfg.bytes, count: cfg.count, compression: cfg.compression }, name === 'kafkatune' ? profileDir : null, `kafkatune-${cfg.bytes}-${cfg.compression}-r${round + 1}`)
          const key = `${cfg.label} ${cfg.compression}|${name}`
          if (!results.has(key)) results.set(key, [])
          results.get(key).push(r)
          console.log(`round ${round + 1} ${cfg.label.padEnd(5)} ${cfg.compression.padEnd(4)} ${name.padEnd(12)} ${(r.records / r.seconds).toFixed(0).padStart(8)} rec/s  cpu ${((r.cpuSeconds / r.records) * 1e6).toFixed(2).padStart(6)} s/M  rss ${r.peakRssMb.toFixed(0)} MB`)
          await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
        }
      }
    }
  } finally {
    await admin.disconnect()
    await handle?.stop()
  }
  const lines = [
    `Run ${new Date().toISOString()}, Node ${process.version}, ${rounds} interleaved rounds, medians (min-max of records/s in brackets). Ratios come from the same run; \"per-round\" ratios pair kafkatune with the client in the same round (same background load).`,
    '',
    '| records | compression | client | records/s | kafkatune vs client, records/s (per-round ratios) | client CPU s / 1M records | kafkatune CPU / client CPU | peak RSS MB |',
    '|---|---|---|---:|---:|---:|---:|---:|',
  ]
  for (const cfg of configs) {
    const tune = results.get(`${cfg.label} ${cfg.compression}|kafkatune`) ?? []
    const tuneCpu = median(tune.map((r) => (r.cpuSeconds / r.records) * 1e6))
    for (const name of names) {
      const rs = results.get(`${cfg.label} ${cfg.compression}|${name}`) ?? []
      const rates = rs.map((r) => r.records / r.seconds)
      const rate = median(rates)
      const cpu = median(rs.map((r) => (r.cpuSeconds / r.records) * 1e6))
      const rss = median(rs.map((r) => r.peakRssMb))
      // Paired per round: the same round ran both under the same background load.
      const paired = rs.map((r, i) => (tune[i] === undefined ? NaN : tune[i].records / tune[i].seconds / (r.records / r.seconds)))
      const ratio = name === 'kafkatune' ? '1.00x' : `${median(paired).toFixed(2)}x (${paired.map((x) => x.toFixed(2)).join(', ')})`
      lines.push(`| ${cfg.label} | ${cfg.compression} | ${name} | ${rate.toFixed(0)} (${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}) | ${ratio} | ${cpu.toFixed(2)} | ${(tuneCpu / cpu).toFixed(2)} | ${rss.toFixed(0)} |`)
    }
  }
  console.log(`\n${lines.join('\n')}`)
}

if (process.argv[2] === '--child') await child()
else await main()
