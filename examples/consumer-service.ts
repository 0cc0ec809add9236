/**
 * A consumer as a long-running service: it processes records until SIGTERM (or SIGINT), then stops
 * gracefully: the in-flight handler finishes (within a deadline), what finished is committed, the member
 * leaves the group so its partitions move at once, and the process exits 0.
 * Run: `npm run example -- examples/consumer-service.ts`, then press Ctrl-C (uses KAFKA_BROKERS, else starts
 * a local broker).
 */
import { randomUUID } from 'node:crypto'
import { createAdmin, createConsumer, createProducer } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

const RECORDS = 5000
const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `invoices-${randomUUID().slice(0, 8)}`
const groupId = `invoicing-${randomUUID().slice(0, 8)}`

const admin = createAdmin({ brokers })
await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
const producer = createProducer({ brokers })
await producer.connect()
for (let i = 0; i < RECORDS; i++) void producer.send({ topic, key: `customer-${i % 50}`, value: `invoice ${i}` })
await producer.disconnect() // flushes first

const consumer = createConsumer({
  brokers,
  groupId,
  topics: [topic],
  autoOffsetReset: 'earliest',
  commit: { strategy: 'batch', size: 100 },
})
let processed = 0

async function shutdown(signal: string): Promise<void> {
  console.log(`${signal}: stopping`)
  // stop(): in-flight handlers finish (up to timeoutMs), finished records are committed, the group is left.
  await consumer.stop({ timeoutMs: 10_000 })
  await consumer.disconnect()
  const lag = await admin.lag({ groupId, topic })
  console.log(`stopped: processed=${processed} lag=${lag.total} topic=${topic} group=${groupId}`)
  await admin.disconnect()
  await kafka.stop()
  process.exit(0)
}
process.once('SIGTERM', (s) => void shutdown(s))
process.once('SIGINT', (s) => void shutdown(s))

await consumer.connect()
await consumer.run({
  eachMessage: async () => {
    await new Promise((r) => setTimeout(r, 2)) // some work per invoice
    processed++
    if (processed % 500 === 0) console.log(`processed ${processed}`)
  },
})
console.log(`consuming ${topic} as ${groupId}; SIGTERM or Ctrl-C stops gracefully`)
