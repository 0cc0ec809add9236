#!/usr/bin/env node
/**
 * ordering 'key' vs 'partition' on one partition, one broker, one pre-filled topic per measure:
 *  1. an I/O-bound handler (awaits 5 ms): 10,000 records over 1,000 keys, ordering 'key' with concurrency 100
 *     vs ordering 'partition' (one record at a time);
 *  2. CPU per record with a no-op handler: ordering 'key' (concurrency 100) vs the plain eachMessage path.
 * Time and CPU run from the first handled record to the last (group joins are left out).
 *
 *   npm run build && node bench/parallel.mjs            # starts its own broker (startKafka)
 *   KAFKA_BROKERS=127.0.0.1:9092 node bench/parallel.mjs
 *   BENCH_ONLY=cpu node bench/parallel.mjs              # only the CPU measure (the 'partition' I/O run takes ~60 s)
 */
import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import { pino } from 'pino'
import { createConsumer } from '../dist/index.js'
import { startKafka } from '../dist/testing.js'

const { Kafka, logLevel } = kafkajs
const IO_RECORDS = 10_000
const CPU_RECORDS = Number(process.env.BENCH_CPU_RECORDS ?? 100_000)
const KEYS = 1000
const HANDLER_MS = 5
const logger = pino({ level: 'silent' })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const unique = (p) => `${p}-${Date.now()}-${randomBytes(3).toString('hex')}`

async function fill(kafka, topic, count) {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  for (let i = 0; i < count; i += 5000) {
    const messages = Array.from({ length: Math.min(5000, count - i) }, (_, j) => ({ key: `k${(i + j) % KEYS}`, value: `v-${i + j}`, partition: 0 }))
    await producer.send({ topic, acks: 1, messages })
  }
  await producer.disconnect()
}

async function measure(brokers, topic, count, options, handler) {
  const consumer = createConsumer({ brokers, groupId: unique('g'), topics: [topic], logger, autoOffsetReset: 'earliest', fetchMaxWaitMs: 100, ...options })
  await consumer.connect()
  let done = 0
  let first = 0
  let cpu0 = null
  let last = 0
  let cpu = null
  await consumer.run({
    eachMessage: async (m) => {
      if (done === 0 && first === 0) {
        first = performance.now()
        cpu0 = process.cpuUsage()
      }
      await handler(m)
      if (++done === count) {
        last = performance.now()
        cpu = process.cpuUsage(cpu0)
      }
    },
  })
  while (done < count) await sleep(20)
  await consumer.disconnect()
  const seconds = (last - first) / 1000
  return { seconds, recordsPerSec: count / seconds, cpuUsPerRecord: (cpu.user + cpu.system) / count }
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
    const io = unique('bench-par-io')
    await fill(kafka, io, IO_RECORDS)
    const slow = () => sleep(HANDLER_MS)
    const skipIo = process.env.BENCH_ONLY === 'cpu'
    const key = skipIo ? { seconds: NaN, recordsPerSec: NaN } : await measure(brokers, io, IO_RECORDS, { ordering: 'key', concurrency: 100 }, slow)
    const part = skipIo ? { seconds: NaN, recordsPerSec: NaN } : await measure(brokers, io, IO_RECORDS, { ordering: 'partition' }, slow)
    const cpuTopic = unique('bench-par-cpu')
    await fill(kafka, cpuTopic, CPU_RECORDS)
    const noop = () => undefined
    // Each path twice, interleaved, keeping the cheaper run: the machine is shared.
    const cpu = { key: [], part: [] }
    for (let round = 0; round < 2; round++) {
      cpu.part.push(await measure(brokers, cpuTopic, CPU_RECORDS, { ordering: 'partition' }, noop))
      cpu.key.push(await measure(brokers, cpuTopic, CPU_RECORDS, { ordering: 'key', concurrency: 100 }, noop))
    }
    const best = (rows) => rows.reduce((a, b) => (a.cpuUsPerRecord <= b.cpuUsPerRecord ? a : b))
    const cpuKey = best(cpu.key)
    const cpuPart = best(cpu.part)
    const f = (n, d = 1) => n.toFixed(d)
    console.log(`\n1 partition, ${IO_RECORDS} records, ${KEYS} keys, handler awaits ${HANDLER_MS} ms\n`)
    console.log('| ordering | seconds | records/s |')
    console.log('|---|---|---|')
    console.log(`| 'partition' | ${f(part.seconds, 2)} | ${f(part.recordsPerSec, 0)} |`)
    console.log(`| 'key', concurrency 100 | ${f(key.seconds, 2)} | ${f(key.recordsPerSec, 0)} |`)
    console.log(`\nratio 'key' / 'partition': ${f(key.recordsPerSec / part.recordsPerSec)}x\n`)
    console.log(`no-op handler, ${CPU_RECORDS} records, CPU per record (better of two runs)\n`)
    console.log('| path | records/s | CPU us / record |')
    console.log('|---|---|---|')
    console.log(`| 'partition' (plain eachMessage path) | ${f(cpuPart.recordsPerSec, 0)} | ${f(cpuPart.cpuUsPerRecord, 2)} |`)
    console.log(`| 'key', concurrency 100 | ${f(cpuKey.recordsPerSec, 0)} | ${f(cpuKey.cpuUsPerRecord, 2)} |`)
    console.log(`\nratio CPU per record 'key' / 'partition': ${f(cpuKey.cpuUsPerRecord / cpuPart.cpuUsPerRecord, 2)}x`)
  } finally {
    await kafka0?.stop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
