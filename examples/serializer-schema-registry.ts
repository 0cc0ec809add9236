/**
 * Confluent wire format through a schema registry: the producer registers the schema under
 * `<topic>-value` (once, ids are cached) and the consumer looks writer schemas up by the id in each record.
 * Needs a Confluent-compatible registry: SCHEMA_REGISTRY_URL, e.g. http://localhost:8081
 * (Confluent Schema Registry) or http://localhost:8080/apis/ccompat/v7 (Apicurio Registry).
 * Run: `SCHEMA_REGISTRY_URL=... npm run example -- examples/serializer-schema-registry.ts` (uses KAFKA_BROKERS, else starts a local broker).
 */
import { randomUUID } from 'node:crypto'
import { createConsumer, createProducer, serializers, createAdmin } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

interface User {
  id: number
  name: string
  email: string | null
}

const userSchema = {
  type: 'record',
  name: 'User',
  namespace: 'example.users',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'string' },
    { name: 'email', type: ['null', 'string'], default: null },
  ],
}

const host = process.env.SCHEMA_REGISTRY_URL
if (host === undefined || host === '') {
  console.error('Set SCHEMA_REGISTRY_URL to a Confluent-compatible schema registry')
  process.exit(1)
}

const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `users-sr-${randomUUID().slice(0, 8)}`
try {
  const admin = createAdmin({ brokers })
  await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
  await admin.disconnect()

  // Registers userSchema under `${topic}-value` on first use (the subject can be set with `subject`).
  const producer = createProducer({
    brokers,
    valueSerializer: serializers.schemaRegistry<User>({ host, schema: userSchema }),
  })
  await producer.connect()
  const users: User[] = Array.from({ length: 10 }, (_, i) => ({ id: i, name: `user-${i}`, email: i % 2 === 0 ? `u${i}@example.org` : null }))
  await Promise.all(users.map((u) => producer.send({ topic, key: String(u.id), value: u })))
  await producer.disconnect()

  // No schema needed to read: each record carries its schema id.
  const consumer = createConsumer({
    brokers,
    groupId: `sr-example-${randomUUID().slice(0, 8)}`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    valueDeserializer: serializers.schemaRegistry<User>({ host }),
  })
  let count = 0
  let allIn: () => void = () => undefined
  const done = new Promise<void>((resolve) => (allIn = resolve))
  await consumer.connect()
  await consumer.run({
    eachMessage: async (msg) => {
      if (++count <= 3) console.log(`${msg.key}: ${msg.value?.name} <${msg.value?.email ?? 'no email'}>`)
      if (count === users.length) allIn()
    },
  })
  await done
  await consumer.disconnect()
  console.log(`received ${count} users`)
} finally {
  await kafka.stop()
}
