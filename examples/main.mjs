// The main job: start (or reuse) a real Kafka, then produce and consume with each preset and print
// a table. `npm run demo` builds first. Env: KAFKA_BROKERS to use your own cluster,
// DEMO_RECORDS (default 20000) for the records per preset.
import { performance } from 'node:perf_hooks'
import { createConsumer, createProducer } from '../dist/index.js'
import { startKafka } from '../dist/testing.js'
import { Kafka, logLevel } from 'kafkajs'

const N = Number(process.env.DEMO_RECORDS ?? 20_000)
const PRESETS = ['low-latency', 'high-throughput', 'exactly-once']

function pct(sorted, p) {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function runPreset(brokers, preset, run) {
  const topic = `demo-${preset}-${run}`
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true })
  await admin.disconnect()

  const consumer = createConsumer({
    brokers,
    preset,
    groupId: `demo-${preset}-${run}`,
    topics: [topic],
    autoOffsetReset: 'earliest',
  })
  const latencies = []
  let received = 0
  let allIn
  const done = new Promise((resolve) => (allIn = resolve))
  await consumer.connect()
  await consumer.run({
    eachMessage: async (msg) => {
      latencies.push(Date.now() - Number(msg.value.slice(0, 13)))
      if (++received >= N) allIn()
    },
  })

  const producer = createProducer(
    preset === 'exactly-once' ? { brokers, preset, transactionalId: `demo-${run}` } : { brokers, preset },
  )
  await producer.connect()
  const pad = 'x'.repeat(100)
  const t0 = performance.now()
  if (preset === 'exactly-once') {
    for (let i = 0; i < N; i += 1000) {
      await producer.transaction(async (tx) => {
        const sends = []
        for (let j = i; j < Math.min(N, i + 1000); j++) sends.push(tx.send({ topic, key: `k${j % 100}`, value: `${Date.now()}:${j}:${pad}` }))
        await Promise.all(sends)
      })
    }
  } else {
    for (let i = 0; i < N; i++) {
      producer.send({ topic, key: `k${i % 100}`, value: `${Date.now()}:${i}:${pad}` }).catch((e) => console.error(e))
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
    }
    await producer.flush()
  }
  const produceSecs = (performance.now() - t0) / 1000
  await done
  const consumeSecs = (performance.now() - t0) / 1000
  await consumer.stop()
  const cm = consumer.metrics()
  await consumer.disconnect()
  await producer.disconnect()
  latencies.sort((a, b) => a - b)
  return {
    preset,
    'produce rec/s': Math.round(N / produceSecs),
    'end-to-end rec/s': Math.round(N / consumeSecs),
    'latency p50 ms': pct(latencies, 50),
    'latency p99 ms': pct(latencies, 99),
    commits: cm.commits,
  }
}

const kafka = await startKafka()
console.error(`Kafka (${kafka.mode}) at ${kafka.brokers.join(',')}; ${N} records of ~120 B per preset, 6 partitions`)
const stop = async () => {
  await kafka.stop()
  process.exit(130)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
try {
  const run = Date.now()
  const rows = []
  for (const preset of PRESETS) rows.push(await runPreset(kafka.brokers, preset, run))
  console.table(rows)
} finally {
  await kafka.stop()
}
