/**
 * At-least-once consumption with per-message retries and a dead-letter topic: a record that keeps failing
 * goes to `orders.dlq` with its original bytes and headers naming where and why, and consumption goes on.
 * Run: `npm run example -- examples/consumer-dead-letter.ts` (uses KAFKA_BROKERS, else starts a local broker).
 */
import { randomUUID } from 'node:crypto'
import { createConsumer, createProducer, DLQ_HEADERS, serializers, createAdmin } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

interface Payment {
  id: number
  amount: number
}

const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `payments-${randomUUID().slice(0, 8)}`
const dlq = `${topic}.dlq`
try {
  const admin = createAdmin({ brokers })
  await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
  await admin.ensureTopic({ name: dlq, partitions: 1, replicationFactor: 1 })

  const producer = createProducer({ brokers, valueSerializer: serializers.json<Payment>() })
  await producer.connect()
  await Promise.all(Array.from({ length: 20 }, (_, id) => producer.send({ topic, key: `p${id}`, value: { id, amount: id === 7 ? -1 : id * 10 } })))
  await producer.disconnect()

  const groupId = `billing-${randomUUID().slice(0, 8)}`
  const consumer = createConsumer<string, Payment>({
    brokers,
    groupId,
    topics: [topic],
    autoOffsetReset: 'earliest',
    valueDeserializer: serializers.json<Payment>(),
    // 1+N: commit the last offset after 10 records or 500 ms, whichever comes first.
    commit: { strategy: 'hybrid', size: 10, intervalMs: 500 },
    // Three calls in all, 100 ms then 200 ms apart; heartbeats continue meanwhile.
    retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 1000 },
    deadLetterTopic: dlq,
  })
  let done = 0
  await consumer.connect()
  await consumer.run({
    eachMessage: async ({ value, partition, offset }) => {
      if (value!.amount < 0) throw new RangeError(`payment ${value!.id} has a negative amount`)
      done++
      console.log(`charged payment ${value!.id} (${partition}@${offset})`)
    },
  })
  while (done + consumer.metrics().deadLettered < 20) await new Promise((r) => setTimeout(r, 100))
  await consumer.stop()

  const dead = createConsumer({ brokers, groupId: `dlq-reader-${randomUUID().slice(0, 8)}`, topics: [dlq], autoOffsetReset: 'earliest' })
  await dead.connect()
  await new Promise<void>((resolve) => {
    void dead.run({
      eachMessage: async (m) => {
        const h = (name: string) => m.headers[name]?.toString()
        console.log(`dead letter from ${h(DLQ_HEADERS.topic)}[${h(DLQ_HEADERS.partition)}]@${h(DLQ_HEADERS.offset)}: ${h(DLQ_HEADERS.errorName)}: ${h(DLQ_HEADERS.errorMessage)}`)
        resolve()
      },
    })
  })
  await dead.disconnect()
  // 0: every record was either handled or dead-lettered, then committed.
  console.log('lag after the run:', (await admin.lag({ groupId, topic })).total)
  console.log(consumer.metrics())
  await consumer.disconnect()
  await admin.disconnect()
} finally {
  await kafka.stop()
}
