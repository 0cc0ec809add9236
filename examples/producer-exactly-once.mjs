// Exactly-once producer: records and consumer offsets commit in one transaction; an aborted
// transaction is never seen by read_committed consumers.
// Run: `npm run build && node examples/producer-exactly-once.mjs` (KAFKA_BROKERS, else a local broker).
import { createAdmin, createProducer, KafkatuneError } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'
import kafkajs from 'kafkajs'

const kafka = await startKafka()
try {
  const topic = `example-eos-${Date.now()}`
  const input = `example-eos-input-${Date.now()}`
  const admin = createAdmin({ brokers: kafka.brokers })
  await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
  await admin.ensureTopic({ name: input, partitions: 1, replicationFactor: 1 })
  await admin.disconnect()

  // A stable transactionalId per producer instance: a restarted instance fences its zombie predecessor.
  const producer = createProducer({ brokers: kafka.brokers, preset: 'exactly-once', transactionalId: 'example-eos-1' })
  await producer.connect()

  await producer.transaction(async (tx) => {
    for (let i = 0; i < 10; i++) void tx.send({ topic, key: `order-${i}`, value: `paid ${i}` })
    // Offsets of the input this output came from (consume-transform-produce) commit with it.
    await tx.sendOffsets({ consumerGroupId: 'example-eos-input', offsets: [{ topic: input, partition: 0, offset: '10' }] })
  })
  console.log('transaction 1 committed: 10 records')

  try {
    await producer.transaction(async (tx) => {
      await tx.send({ topic, key: 'order-x', value: 'never visible' })
      throw new Error('validation failed')
    })
  } catch (err) {
    console.log(`transaction 2 aborted: ${err.message}`)
  }

  // A second instance with the same transactionalId fences the first.
  const successor = createProducer({ brokers: kafka.brokers, preset: 'exactly-once', transactionalId: 'example-eos-1' })
  await successor.connect()
  await successor.transaction(async (tx) => void (await tx.send({ topic, value: 'from the successor' })))
  try {
    await producer.transaction(async (tx) => void (await tx.send({ topic, value: 'zombie' })))
  } catch (err) {
    console.log(`old instance: ${err instanceof KafkatuneError ? err.code : 'unexpected'} (${err.message.split(':')[0]})`)
  }

  // What a read_committed consumer sees.
  const consumer = new kafkajs.Kafka({ brokers: kafka.brokers, logLevel: kafkajs.logLevel.NOTHING }).consumer({ groupId: `example-eos-read-${Date.now()}` })
  const seen = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value.toString()) })
  while (seen.length < 11) await new Promise((resolve) => setTimeout(resolve, 100))
  await consumer.disconnect()
  console.log(`read_committed sees ${seen.length} records; aborted visible: ${seen.includes('never visible')}; zombie visible: ${seen.includes('zombie')}`)
  await successor.disconnect()
  await producer.disconnect().catch(() => undefined)
} finally {
  await kafka.stop()
}
