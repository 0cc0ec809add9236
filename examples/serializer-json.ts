/**
 * JSON values with a typed producer and consumer.
 * Run: `npm run example -- examples/serializer-json.ts` (uses KAFKA_BROKERS, else starts a local broker).
 */
import { randomUUID } from 'node:crypto'
import { createConsumer, createProducer, serializers, createAdmin } from 'kafkatune'
import type { ConsumedMessage } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

interface Order {
  id: number
  item: string
  quantity: number
}

const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `orders-json-${randomUUID().slice(0, 8)}`
try {
  const admin = createAdmin({ brokers })
  await admin.ensureTopic({ name: topic, partitions: 3, replicationFactor: 1 })
  await admin.disconnect()

  // K = string (default), V = Order, inferred from the serializer.
  const producer = createProducer({ brokers, valueSerializer: serializers.json<Order>() })
  await producer.connect()
  const orders: Order[] = Array.from({ length: 10 }, (_, i) => ({ id: i, item: `item-${i % 3}`, quantity: i + 1 }))
  // Not awaiting each send lets the producer batch them; flush() waits for all acks.
  const sent = orders.map((order) => producer.send({ topic, key: `order-${order.id}`, value: order }))
  await producer.flush()
  const metadata = await Promise.all(sent)
  console.log(`sent ${metadata.length} orders, first at partition ${metadata[0]?.partition} offset ${metadata[0]?.offset}`)
  await producer.disconnect()

  const consumer = createConsumer({
    brokers,
    groupId: `json-example-${randomUUID().slice(0, 8)}`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    valueDeserializer: serializers.json<Order>(),
  })
  const received: ConsumedMessage<string, Order>[] = []
  let allIn: () => void = () => undefined
  const done = new Promise<void>((resolve) => (allIn = resolve))
  await consumer.connect()
  await consumer.run({
    eachMessage: async (msg) => {
      received.push(msg)
      if (received.length === orders.length) allIn()
    },
  })
  await done
  await consumer.disconnect()
  const total = received.reduce((sum, msg) => sum + (msg.value?.quantity ?? 0), 0)
  console.log(`received ${received.length} orders, ${total} items in total`)
} finally {
  await kafka.stop()
}
