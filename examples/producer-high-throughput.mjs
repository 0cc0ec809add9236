// High-throughput producer: send() without awaiting each record, let the accumulator build large lz4
// batches per partition, then flush(). Run: `npm run build && node examples/producer-high-throughput.mjs`
// (uses KAFKA_BROKERS when set, else starts a local broker).
import { performance } from 'node:perf_hooks'
import { createAdmin, createProducer, serializers } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

const RECORDS = Number(process.env.RECORDS ?? 100_000)
const kafka = await startKafka()
try {
  const topic = `example-high-throughput-${Date.now()}`
  const admin = createAdmin({ brokers: kafka.brokers })
  await admin.ensureTopic({ name: topic, partitions: 6, replicationFactor: 1 })
  await admin.disconnect()

  const producer = createProducer({ brokers: kafka.brokers, preset: 'high-throughput', valueSerializer: serializers.json() })
  const unsubscribe = producer.on('producer.error', ({ error, records }) => console.error(`${records} record(s) failed: ${error.code}`))
  await producer.connect()
  const started = performance.now()
  for (let i = 0; i < RECORDS; i++) {
    // Not awaited: failures still reach the 'producer.error' listener and metrics().errors.
    void producer.send({ topic, value: { id: i, at: Date.now(), payload: 'x'.repeat(64) } })
    // Yield now and then so the sockets get CPU time while we keep producing.
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
  }
  await producer.flush()
  const seconds = (performance.now() - started) / 1000
  const m = producer.metrics()
  console.log(`${RECORDS} records in ${seconds.toFixed(2)} s = ${(RECORDS / seconds).toFixed(0)} records/s`)
  console.log(`${m.requests} requests, ${m.batchRecordsAvg.toFixed(0)} records per partition batch on average, buffer in use now ${m.bufferBytesInUse} B`)
  unsubscribe()
  await producer.disconnect()
} finally {
  await kafka.stop()
}
