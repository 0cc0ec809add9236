/**
 * Timing guards: a handler slower than the session timeout keeps its member in the group (kafkatune
 * heartbeats while it runs); one slower than maxPollIntervalMs gives up its partitions, as the Java client does.
 * Run: `npm run example -- examples/consumer-slow-handler.ts` (uses KAFKA_BROKERS, else starts a local broker).
 */
import { randomUUID } from 'node:crypto'
import { createConsumer, createProducer, createAdmin } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `reports-${randomUUID().slice(0, 8)}`
try {
  const admin = createAdmin({ brokers })
  await admin.ensureTopic({ name: topic, partitions: 1, replicationFactor: 1 })
  await admin.disconnect()
  const producer = createProducer({ brokers })
  await producer.connect()
  await producer.send({ topic, value: 'render a big report' })
  await producer.disconnect()

  const consumer = createConsumer({
    brokers,
    groupId: `reports-${randomUUID().slice(0, 8)}`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    commit: { strategy: 'per-message' },
    sessionTimeoutMs: 6000, // the handler below runs longer than this...
    heartbeatIntervalMs: 1000,
    maxPollIntervalMs: 20_000, // ...but not longer than this
  })
  consumer.on('max-poll-interval-exceeded', (e) => console.error(`handler too slow on ${e.topic}[${e.partition}]@${e.offset}: ${e.elapsedMs} ms`))
  let finished = false
  await consumer.connect()
  await consumer.run({
    eachMessage: async ({ value }) => {
      console.log(`working on "${value}" for 10 s...`)
      await new Promise((r) => setTimeout(r, 10_000))
      finished = true
    },
  })
  while (!finished) await new Promise((r) => setTimeout(r, 200))
  const m = consumer.metrics()
  console.log(`done; rebalances: ${m.rebalances}, handler p99: ${m.handlerTimeMs.p99} ms`)
  await consumer.disconnect()
} finally {
  await kafka.stop()
}
