#!/usr/bin/env node
/**
 * A kafkatune `high-throughput` consumer in a fresh process, as the peers benchmark runs it: a new group reads a
 * pre-filled topic (100 B lz4 records, 6 partitions) from the beginning with a no-op eachBatch handler; records/s
 * and client CPU per 1M records from the group join to the last record. `BENCH_DISTS` lists builds to alternate
 * (before/after pairs on one broker); each run is a process of its own, so every run starts with a cold JIT.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node bench/consumer-cold.mjs                       # fills a topic, 6 runs of ./dist
 *   KAFKA_BROKERS=... BENCH_DISTS=/tmp/base/dist,dist BENCH_RUNS=6 node bench/consumer-cold.mjs
 *   KAFKA_BROKERS=... BENCH_TOPIC=<topic> ...                                        # reuse a filled topic
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const RECORDS = Number(process.env.BENCH_RECORDS ?? 250_000)
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean)

async function load(dist) {
  return import(join(resolve(dist), 'index.js'))
}

/** One consumer run in this process: prints a JSON line. */
async function child(dist, topic) {
  const { pino } = await import('pino')
  const { createConsumer } = await load(dist)
  const consumer = createConsumer({
    brokers,
    logger: pino({ level: 'silent' }),
    groupId: `bench-cold-${Date.now()}-${randomBytes(3).toString('hex')}`,
    topics: [topic],
    preset: 'high-throughput',
    autoOffsetReset: 'earliest',
    valueDeserializer: { name: 'bytes', serialize: (b) => b, deserialize: (b) => b },
  })
  let start = 0
  let cpu0 = process.cpuUsage()
  let seen = 0
  let finish
  const finished = new Promise((r) => (finish = r))
  consumer.on('group-join', () => {
    start = performance.now()
    cpu0 = process.cpuUsage()
  })
  await consumer.connect()
  await consumer.run({
    eachBatch: async (records) => {
      seen += records.length
      if (seen >= RECORDS) finish()
    },
  })
  await finished
  const ms = performance.now() - start
  const cpu = process.cpuUsage(cpu0)
  await consumer.disconnect()
  console.log(JSON.stringify({ recordsPerSec: Math.round((RECORDS / ms) * 1000), cpuSecPerM: (cpu.user + cpu.system) / 1e6 / (RECORDS / 1e6) }))
}

async function fill() {
  const { pino } = await import('pino')
  const { createProducer, createAdmin } = await load(join(here, '..', 'dist'))
  const topic = `bench-cold-${Date.now()}-${randomBytes(3).toString('hex')}`
  const admin = createAdmin({ brokers, logger: pino({ level: 'silent' }) })
  await admin.connect()
  await admin.ensureTopic({ name: topic, partitions: 6 })
  await admin.disconnect()
  const producer = createProducer({ brokers, preset: 'high-throughput', compression: 'lz4', logger: pino({ level: 'silent' }) })
  await producer.connect()
  const pool = Array.from({ length: 16_384 }, () => randomBytes(75).toString('base64'))
  const pending = []
  for (let i = 0; i < RECORDS; i++) {
    pending.push(producer.send({ topic, value: pool[i % pool.length] }))
    if (pending.length >= 20_000) await Promise.all(pending.splice(0))
  }
  await Promise.all(pending)
  await producer.disconnect()
  return topic
}

if (brokers.length === 0) {
  console.error('KAFKA_BROKERS is required (start one with: node scripts/kafka.mjs)')
  process.exit(2)
}
if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4])
} else {
  const topic = process.env.BENCH_TOPIC ?? (await fill())
  const dists = (process.env.BENCH_DISTS ?? join(here, '..', 'dist')).split(',')
  const runs = Number(process.env.BENCH_RUNS ?? 6)
  console.log(`topic ${topic}, ${RECORDS} records, builds: ${dists.join(' | ')}`)
  const results = new Map(dists.map((d) => [d, []]))
  for (let r = 0; r < runs; r++) {
    for (const dist of r % 2 === 0 ? dists : [...dists].reverse()) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dist, topic], { encoding: 'utf8', env: process.env })
      const line = JSON.parse(out.trim().split('\n').pop())
      results.get(dist).push(line)
      console.log(`run ${r + 1} ${dist}: ${line.recordsPerSec} records/s, ${line.cpuSecPerM.toFixed(2)} CPU s per 1M`)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
  for (const [dist, rs] of results) {
    console.log(`median ${dist}: ${median(rs.map((x) => x.recordsPerSec))} records/s, ${median(rs.map((x) => x.cpuSecPerM)).toFixed(2)} CPU s per 1M`)
  }
}
