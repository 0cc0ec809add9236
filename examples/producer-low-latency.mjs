// Low-latency producer: every record is sent as soon as the event loop allows (lingerMs 0), acks from
// the leader only. Run: `npm run build && node examples/producer-low-latency.mjs`
// (uses KAFKA_BROKERS when set, else starts a local broker).
import { performance } from 'node:perf_hooks'
import { createAdmin, createProducer } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

const kafka = await startKafka()
try {
  const topic = `example-low-latency-${Date.now()}`
  const admin = createAdmin({ brokers: kafka.brokers })
  await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
  await admin.disconnect()

  const producer = createProducer({ brokers: kafka.brokers, preset: 'low-latency' })
  await producer.connect()
  const latencies = []
  for (let i = 0; i < 200; i++) {
    const started = performance.now()
    // Awaiting each send: with lingerMs 0 the record leaves at once, so this is one round trip.
    const md = await producer.send({ topic, key: `user-${i % 10}`, value: `click ${i}` })
    latencies.push(performance.now() - started)
    if (i === 0) console.log(`first record: partition ${md.partition}, offset ${md.offset}`)
  }
  latencies.sort((a, b) => a - b)
  console.log(`200 awaited sends: p50 ${latencies[100].toFixed(2)} ms, p99 ${latencies[197].toFixed(2)} ms`)
  const m = producer.metrics()
  console.log(`metrics: ${m.recordsSent} records, request p99 ${m.requestLatencyP99Ms.toFixed(1)} ms, errors ${JSON.stringify(m.errors)}`)
  await producer.disconnect()
} finally {
  await kafka.stop()
}
