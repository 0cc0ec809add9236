/**
 * Consumer contenders, each run in its own process: a fresh group reads `count` records of a pre-filled
 * topic from the beginning with a no-op handler. The window runs from the group assignment to the last record.
 */
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { HT_FETCH, consumeWindow } from './common.mjs'

const require = createRequire(import.meta.url)
const group = (name) => `bench-peers-${name}-${Date.now()}-${randomBytes(3).toString('hex')}`

export const consumers = {
  async kafkatune({ brokers, topic, count }) {
    const { pino } = await import('pino')
    const { createConsumer } = await import('../../dist/index.js')
    const consumer = createConsumer({
      brokers,
      logger: pino({ level: 'silent' }),
      groupId: group('kafkatune'),
      topics: [topic],
      preset: 'high-throughput',
      autoOffsetReset: 'earliest',
      valueDeserializer: { name: 'bytes', serialize: (b) => b, deserialize: (b) => b },
    })
    const w = consumeWindow(count)
    consumer.on('group-join', () => w.start())
    await consumer.connect()
    await consumer.run({ eachBatch: async (records) => w.add(records.length) })
    const result = await w.done
    await consumer.disconnect()
    return result
  },

  /** kafkajs 2.2.4 eachBatch with its defaults (the baseline the issue names). */
  async kafkajs({ brokers, topic, count }) {
    const { default: kafkajs } = await import('kafkajs')
    const { registerCodecs } = await import('../../dist/index.js')
    registerCodecs()
    const kafka = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, clientId: 'bench-kafkajs' })
    const consumer = kafka.consumer({ groupId: group('kafkajs') })
    const w = consumeWindow(count)
    consumer.on(consumer.events.GROUP_JOIN, () => w.start())
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachBatch: async ({ batch }) => w.add(batch.messages.length) })
    const result = await w.done
    await consumer.disconnect()
    return result
  },

  /** @platformatic/kafka 1.x: the message stream in flowing mode (`data` per record), the preset's fetch knobs. */
  async platformatic({ brokers, topic, count }) {
    const { Consumer } = await import('@platformatic/kafka')
    const consumer = new Consumer({
      groupId: group('platformatic'),
      clientId: 'bench-platformatic',
      bootstrapBrokers: brokers,
      minBytes: HT_FETCH.minBytes,
      maxWaitTime: HT_FETCH.maxWaitMs,
      maxBytesPerPartition: HT_FETCH.maxPartitionBytes,
    })
    const w = consumeWindow(count)
    consumer.on('consumer:group:join', () => w.start())
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 5000 })
    stream.on('data', () => w.add(1))
    const result = await w.done
    await stream.close()
    await consumer.close()
    return result
  },

  /** node-rdkafka: the flowing consumer (`data` per record), the preset's fetch knobs. */
  async rdkafka({ brokers, topic, count }) {
    const Kafka = require('node-rdkafka')
    const w = consumeWindow(count)
    const consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': brokers.join(','),
        'group.id': group('rdkafka'),
        'client.id': 'bench-rdkafka',
        'enable.auto.commit': true,
        'fetch.min.bytes': HT_FETCH.minBytes,
        'fetch.wait.max.ms': HT_FETCH.maxWaitMs,
        'fetch.message.max.bytes': HT_FETCH.maxPartitionBytes,
        rebalance_cb(err, assignment) {
          if (err.code === Kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
            this.assign(assignment)
            w.start()
          } else this.unassign()
        },
      },
      { 'auto.offset.reset': 'earliest' },
    )
    await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())))
    consumer.subscribe([topic])
    // Flowing mode read 1.3-1.5x more records/s than `consume(2000)` batches in a trial run here.
    consumer.on('data', () => w.add(1))
    consumer.setDefaultConsumeTimeout(100)
    consumer.setDefaultConsumeLoopTimeoutDelay(1)
    consumer.consume()
    const result = await w.done
    await new Promise((resolve) => consumer.disconnect(resolve))
    return result
  },
}
