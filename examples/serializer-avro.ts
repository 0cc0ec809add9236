/**
 * Schemaless Avro: producer and consumer share the schema in code; no registry involved.
 * Values are checked against the schema in send(): a mismatch rejects that send with a
 * KafkatuneError code SERIALIZATION naming the field.
 * Run: `npm run example -- examples/serializer-avro.ts` (uses KAFKA_BROKERS, else starts a local broker).
 */
import { randomUUID } from 'node:crypto'
import { createConsumer, createProducer, isKafkatuneError, serializers, createAdmin } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

interface Reading {
  sensor: string
  celsius: number
  at: number
}

const readingSchema = {
  type: 'record',
  name: 'Reading',
  namespace: 'example.sensors',
  fields: [
    { name: 'sensor', type: 'string' },
    { name: 'celsius', type: 'double' },
    { name: 'at', type: 'long' },
  ],
}

const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `readings-avro-${randomUUID().slice(0, 8)}`
try {
  const admin = createAdmin({ brokers })
  await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
  await admin.disconnect()

  const avro = serializers.avro<Reading>(readingSchema)
  const producer = createProducer({ brokers, valueSerializer: avro, compression: 'lz4' })
  await producer.connect()
  const readings: Reading[] = Array.from({ length: 20 }, (_, i) => ({ sensor: `s-${i % 4}`, celsius: 20 + i / 10, at: Date.now() }))
  await Promise.all(readings.map((r) => producer.send({ topic, key: r.sensor, value: r })))

  // A value that does not match the schema is refused before anything is sent.
  try {
    await producer.send({ topic, value: { sensor: 's-x', celsius: 'hot', at: 0 } as unknown as Reading })
  } catch (err) {
    if (isKafkatuneError(err, 'SERIALIZATION')) console.log(`refused as expected: ${err.message}`)
    else throw err
  }
  await producer.disconnect()

  const consumer = createConsumer({
    brokers,
    groupId: `avro-example-${randomUUID().slice(0, 8)}`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    valueDeserializer: avro,
  })
  let count = 0
  let allIn: () => void = () => undefined
  const done = new Promise<void>((resolve) => (allIn = resolve))
  await consumer.connect()
  await consumer.run({
    eachMessage: async (msg) => {
      if (++count <= 3) console.log(`${msg.key}: ${msg.value?.celsius} °C`)
      if (count === readings.length) allIn()
    },
  })
  await done
  await consumer.disconnect()
  console.log(`received ${count} readings`)
} finally {
  await kafka.stop()
}
