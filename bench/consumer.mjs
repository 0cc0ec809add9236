#!/usr/bin/env node
/**
 * Consumer benchmark, one run, one broker, one pre-filled topic:
 *  1. throughput: plain kafkajs eachBatch (defaults) vs kafkatune with each preset, every contender a
 *     fresh group reading the same records from the beginning with a no-op handler;
 *  2. produce->consume latency at a fixed 1,000 records/s: kafkatune 'low-latency' vs a kafkajs consumer
 *     with its defaults, both in the group-per-contender setup, reading the same stream at the same time.
 *
 *   npm run build && node bench/consumer.mjs            # starts its own broker (startKafka)
 *   KAFKA_BROKERS=127.0.0.1:9092 node bench/consumer.mjs
 *   BENCH_SCALE=0.2 node bench/consumer.mjs              # fewer records (smoke run)
 *   BENCH_RESULTS=bench/RESULTS.md node bench/consumer.mjs   # also rewrite the consumer table in that file
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import kafkajs from 'kafkajs'
import { pino } from 'pino'
import { createConsumer } from '../dist/index.js'
import { startKafka } from '../dist/testing.js'

const { Kafka, logLevel } = kafkajs
const SCALE = Number(process.env.BENCH_SCALE ?? 1)
const PARTITIONS = 6
const RECORDS = Math.max(1000, Math.round(200_000 * SCALE))
const RECORD_BYTES = 100
const LATENCY_SECONDS = Math.max(3, Math.round(15 * SCALE))
const RATE = 1000
const logger = pino({ level: 'silent' })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const unique = (p) => `${p}-${Date.now()}-${randomBytes(3).toString('hex')}`

function percentile(sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

async function until(pred, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out')
    await sleep(5)
  }
}

async function fill(kafka, topic) {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const value = Buffer.from(randomBytes(RECORD_BYTES).toString('base64').slice(0, RECORD_BYTES))
  const chunk = 2000
  const inflight = []
  for (let i = 0; i < RECORDS; i += chunk) {
    const messages = Array.from({ length: Math.min(chunk, RECORDS - i) }, (_, j) => ({ value, partition: (i + j) % PARTITIONS }))
    inflight.push(producer.send({ topic, acks: 1, messages }))
    if (inflight.length >= 4) await inflight.shift()
  }
  await Promise.all(inflight)
  await producer.disconnect()
}

/** Reads every record once; returns records/s measured from run() to the last record, and CPU per million records. */
async function measure(name, start) {
  if (global.gc) global.gc()
  // Timed from the group join to the last record: start-up checks and the join itself are not throughput.
  let count = 0
  let t0 = performance.now()
  let cpu0 = process.cpuUsage()
  const joined = () => {
    t0 = performance.now()
    cpu0 = process.cpuUsage()
  }
  const stop = await start((n) => (count += n), joined)
  await until(() => count >= RECORDS, 300_000)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await stop()
  const row = { name, records: count, seconds, recordsPerSec: RECORDS / seconds, cpuMsPerMillion: ((cpu.user + cpu.system) / 1000 / RECORDS) * 1e6 }
  process.stderr.write(`${name.padEnd(44)} ${Math.round(row.recordsPerSec).toString().padStart(9)} rec/s  ${seconds.toFixed(2)} s\n`)
  return row
}

function kafkajsEachBatch(kafka, topic) {
  return async (add, joined) => {
    const consumer = kafka.consumer({ groupId: unique('bench-kjs') })
    consumer.on(consumer.events.GROUP_JOIN, joined)
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachBatch: async ({ batch }) => add(batch.messages.length) })
    return () => consumer.disconnect()
  }
}

function kafkajsEachMessage(kafka, topic) {
  return async (add, joined) => {
    const consumer = kafka.consumer({ groupId: unique('bench-kjs') })
    consumer.on(consumer.events.GROUP_JOIN, joined)
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachMessage: async () => add(1) })
    return () => consumer.disconnect()
  }
}

function kafkatune(brokers, topic, preset, mode) {
  return async (add, joined) => {
    const consumer = createConsumer({
      brokers,
      logger,
      groupId: unique('bench-kt'),
      topics: [topic],
      autoOffsetReset: 'earliest',
      valueDeserializer: { name: 'bytes', serialize: (b) => b, deserialize: (b) => b },
      ...(preset ? { preset } : {}),
    })
    consumer.on('group-join', joined)
    await consumer.connect()
    if (mode === 'eachBatch') await consumer.run({ eachBatch: async (msgs) => add(msgs.length) })
    else await consumer.run({ eachMessage: async () => add(1) })
    return () => consumer.disconnect()
  }
}

/** Both consumers read the same 1,000 rec/s stream; latency = receive time - send time carried in the value. */
async function latency(kafka, brokers) {
  const topic = unique('bench-lat')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const kjsLat = []
  const ktLat = []
  const kjs = kafka.consumer({ groupId: unique('bench-lat-kjs') })
  await kjs.connect()
  await kjs.subscribe({ topics: [topic], fromBeginning: true })
  await kjs.run({ eachMessage: async ({ message }) => void kjsLat.push(Date.now() - Number(message.value.toString())) })
  const kt = createConsumer({ brokers, logger, groupId: unique('bench-lat-kt'), topics: [topic], preset: 'low-latency', autoOffsetReset: 'earliest' })
  await kt.connect()
  await kt.run({ eachMessage: async (m) => void ktLat.push(Date.now() - Number(m.value)) })
  await sleep(3000)
  const producer = kafka.producer()
  await producer.connect()
  // 10 records every 10 ms (one send per tick, as a producer with a short linger would), stamped at send time.
  const total = RATE * LATENCY_SECONDS
  const perTick = RATE / 100
  const t0 = Date.now()
  const sends = []
  for (let i = 0; i < total; i += perTick) {
    const due = t0 + (i * 1000) / RATE
    const wait = due - Date.now()
    if (wait > 1) await sleep(wait)
    const now = String(Date.now())
    sends.push(producer.send({ topic, acks: 1, messages: Array.from({ length: perTick }, (_, j) => ({ value: now, partition: (i + j) % PARTITIONS })) }))
  }
  await Promise.all(sends)
  await until(() => kjsLat.length >= total && ktLat.length >= total, 60_000)
  await producer.disconnect()
  await kjs.disconnect()
  await kt.disconnect()
  const row = (name, lat) => {
    const s = [...lat].sort((a, b) => a - b)
    return { name, records: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) }
  }
  return [row('kafkajs consumer, defaults (eachMessage)', kjsLat), row("kafkatune preset 'low-latency' (eachMessage)", ktLat)]
}

async function main() {
  let kafka0 = null
  let brokers = process.env.KAFKA_BROKERS?.split(',').map((s) => s.trim()).filter(Boolean)
  if (!brokers?.length) {
    kafka0 = await startKafka({ nodes: 1 })
    brokers = kafka0.brokers
  }
  try {
    const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING })
    const topic = unique('bench-cons')
    process.stderr.write(`filling ${topic}: ${RECORDS} x ${RECORD_BYTES} B over ${PARTITIONS} partitions\n`)
    await fill(kafka, topic)
    // Every contender runs twice, interleaved, and keeps its better run: the machine is shared and noisy.
    const contenders = [
      ['kafkajs eachBatch, defaults', () => kafkajsEachBatch(kafka, topic)],
      ['kafkajs eachMessage, defaults', () => kafkajsEachMessage(kafka, topic)],
      ['kafkatune, no preset (eachBatch)', () => kafkatune(brokers, topic, undefined, 'eachBatch')],
      ["kafkatune 'high-throughput' (eachBatch)", () => kafkatune(brokers, topic, 'high-throughput', 'eachBatch')],
      ["kafkatune 'high-throughput' (eachMessage)", () => kafkatune(brokers, topic, 'high-throughput', 'eachMessage')],
      ["kafkatune 'low-latency' (eachBatch)", () => kafkatune(brokers, topic, 'low-latency', 'eachBatch')],
      ["kafkatune 'exactly-once' (eachBatch)", () => kafkatune(brokers, topic, 'exactly-once', 'eachBatch')],
    ]
    const best = new Map()
    for (let round = 0; round < 2; round++) {
      for (const [name, make] of contenders) {
        const row = await measure(name, make())
        if (!best.has(name) || best.get(name).recordsPerSec < row.recordsPerSec) best.set(name, row)
      }
    }
    const rows = contenders.map(([name]) => best.get(name))
    const baseline = rows[0].recordsPerSec
    const lat = await latency(kafka, brokers)
    for (const l of lat) process.stderr.write(`${l.name.padEnd(44)} p50 ${l.p50} ms  p99 ${l.p99} ms  max ${l.max} ms\n`)

    const lines = []
    lines.push(`Run ${new Date().toISOString()} on ${brokers.length === 1 ? 'one local broker' : brokers.join(',')}, Node ${process.version}; command: \`npm run build && ${process.env.BENCH_SCALE ? `BENCH_SCALE=${process.env.BENCH_SCALE} ` : ''}node bench/consumer.mjs\`.`)
    lines.push('')
    lines.push(`Throughput (best of two interleaved runs each): ${RECORDS.toLocaleString('en')} records of ${RECORD_BYTES} B on ${PARTITIONS} partitions, every contender a fresh group from the beginning, no-op handler, timed from the group join to the last record.`)
    lines.push('')
    lines.push('| contender | records/s | vs kafkajs eachBatch | CPU ms / 1M records |')
    lines.push('|---|---:|---:|---:|')
    for (const r of rows) lines.push(`| ${r.name} | ${Math.round(r.recordsPerSec).toLocaleString('en')} | ${(r.recordsPerSec / baseline).toFixed(2)}x | ${Math.round(r.cpuMsPerMillion).toLocaleString('en')} |`)
    lines.push('')
    lines.push(`End-to-end latency (send -> handler) at a fixed ${RATE} records/s for ${LATENCY_SECONDS} s, both consumers on the same stream at the same time:`)
    lines.push('')
    lines.push('| consumer | records | p50 ms | p99 ms | max ms |')
    lines.push('|---|---:|---:|---:|---:|')
    for (const l of lat) lines.push(`| ${l.name} | ${l.records} | ${l.p50} | ${l.p99} | ${l.max} |`)
    const table = lines.join('\n')
    process.stdout.write(`${table}\n`)
    if (process.env.BENCH_RESULTS) {
      const file = process.env.BENCH_RESULTS
      const begin = '<!-- consumer-bench:begin -->'
      const end = '<!-- consumer-bench:end -->'
      let text = ''
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        text = '# Benchmark results\n'
      }
      const block = `${begin}\n## Consumer\n\n${table}\n${end}`
      const i = text.indexOf(begin)
      const j = text.indexOf(end)
      text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`
      writeFileSync(file, text)
    }
  } finally {
    await kafka0?.stop()
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`)
  process.exit(1)
})
