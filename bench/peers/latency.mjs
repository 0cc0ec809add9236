/**
 * End-to-end latency contenders (produce -> consume in one process, one clock), the `low-latency` knobs:
 * acks 1, no linger, fetches answered from 1 byte or after 20 ms. Records of `bytes` are offered open loop
 * at `rate` per second (each record sent when due, those due in the same ~1 ms tick together); latency runs
 * from a record's due time, written into its value, to its delivery to the handler.
 */
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { LL_FETCH, latencySummary, payloads, sleep, until } from './common.mjs'

const require = createRequire(import.meta.url)
const group = (name) => `bench-lat-${name}-${Date.now()}-${randomBytes(3).toString('hex')}`
const stamp = (v) => performance.now() - v.readDoubleLE(0)

/** Offers `total` records at `rate`/s through `sendDue(values)`, then waits until `received()` reaches `total`. */
async function offer({ bytes, rate, total }, sendDue, received) {
  const pool = payloads(bytes, 1024)
  const t0 = performance.now() + 5
  let i = 0
  while (i < total) {
    const now = performance.now()
    const due = []
    while (i < total && t0 + (i * 1000) / rate <= now) {
      const v = Buffer.from(pool[i % pool.length])
      v.writeDoubleLE(t0 + (i * 1000) / rate, 0)
      due.push(v)
      i++
    }
    if (due.length > 0) sendDue(due)
    await sleep(1)
  }
  await until(() => received() >= total, 60_000, 'latency run')
}

export const latency = {
  async kafkatune({ brokers, topic, ...load }) {
    const { pino } = await import('pino')
    const { createConsumer, createProducer, serializers } = await import('../../dist/index.js')
    const logger = pino({ level: 'silent' })
    const lat = []
    const consumer = createConsumer({ brokers, logger, groupId: group('kafkatune'), topics: [topic], preset: 'low-latency', autoOffsetReset: 'earliest', valueDeserializer: { name: 'bytes', serialize: (b) => b, deserialize: (b) => b } })
    let joined = false
    consumer.on('group-join', () => (joined = true))
    await consumer.connect()
    await consumer.run({ eachMessage: async (m) => void lat.push(stamp(m.value)) })
    const producer = createProducer({ brokers, logger, preset: 'low-latency', valueSerializer: serializers.bytes() })
    await producer.connect()
    await until(() => joined, 30_000, 'kafkatune group join')
    await sleep(1000)
    await offer(load, (values) => {
      for (const value of values) producer.send({ topic, value }).catch(() => undefined)
    }, () => lat.length)
    await producer.disconnect()
    await consumer.disconnect()
    return latencySummary(lat)
  },

  /** kafkajs with the same knobs: one `send` per tick of due records, eachMessage, minBytes 1, maxWait 20 ms. */
  async kafkajs({ brokers, topic, ...load }) {
    const { default: kafkajs } = await import('kafkajs')
    const kafka = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, clientId: 'bench-lat-kafkajs' })
    const lat = []
    const consumer = kafka.consumer({ groupId: group('kafkajs'), minBytes: LL_FETCH.minBytes, maxWaitTimeInMs: LL_FETCH.maxWaitMs })
    let joined = false
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true))
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void lat.push(stamp(message.value)) })
    const producer = kafka.producer()
    await producer.connect()
    await until(() => joined, 30_000, 'kafkajs group join')
    await sleep(1000)
    await offer(load, (values) => void producer.send({ topic, acks: 1, messages: values.map((value) => ({ value })) }).catch(() => undefined), () => lat.length)
    await producer.disconnect()
    await consumer.disconnect()
    return latencySummary(lat)
  },

  async platformatic({ brokers, topic, ...load }) {
    const { Consumer, Producer, ProduceAcks } = await import('@platformatic/kafka')
    const lat = []
    const consumer = new Consumer({ groupId: group('platformatic'), clientId: 'bench-lat-platformatic', bootstrapBrokers: brokers, minBytes: LL_FETCH.minBytes, maxWaitTime: LL_FETCH.maxWaitMs })
    let joined = false
    consumer.on('consumer:group:join', () => (joined = true))
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 1000 })
    stream.on('data', (m) => lat.push(stamp(m.value)))
    const producer = new Producer({ clientId: 'bench-lat-platformatic', bootstrapBrokers: brokers, acks: ProduceAcks.LEADER, idempotent: false, autocreateTopics: false })
    await until(() => joined, 30_000, 'platformatic group join')
    await sleep(1000)
    await offer(load, (values) => void producer.send({ messages: values.map((value) => ({ topic, value })), acks: ProduceAcks.LEADER }).catch(() => undefined), () => lat.length)
    await producer.close()
    await stream.close()
    await consumer.close()
    return latencySummary(lat)
  },

  /** node-rdkafka: `produce()` per record with linger.ms 0, the flowing consumer (`data` per record). */
  async rdkafka({ brokers, topic, ...load }) {
    const Kafka = require('node-rdkafka')
    const lat = []
    let joined = false
    const consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': brokers.join(','),
        'group.id': group('rdkafka'),
        'enable.auto.commit': true,
        'fetch.min.bytes': LL_FETCH.minBytes,
        'fetch.wait.max.ms': LL_FETCH.maxWaitMs,
        // librdkafka's low-latency advice. The Java client, platformatic and kafkatune (its socket factory) set TCP_NODELAY too; plain kafkajs leaves Nagle on.
        'socket.nagle.disable': true,
        rebalance_cb(err, assignment) {
          if (err.code === Kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
            this.assign(assignment)
            joined = true
          } else this.unassign()
        },
      },
      { 'auto.offset.reset': 'earliest' },
    )
    await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())))
    consumer.subscribe([topic])
    consumer.on('data', (m) => lat.push(stamp(m.value)))
    // The flowing loop waits up to 1 s for a record, then 500 ms before it asks again: both shortened.
    consumer.setDefaultConsumeTimeout(LL_FETCH.maxWaitMs)
    consumer.setDefaultConsumeLoopTimeoutDelay(1)
    consumer.consume()
    const producer = new Kafka.Producer({ 'metadata.broker.list': brokers.join(','), 'request.required.acks': 1, 'linger.ms': 0, 'enable.idempotence': false, 'socket.nagle.disable': true })
    await new Promise((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve())))
    producer.setPollInterval(10)
    await until(() => joined, 30_000, 'node-rdkafka group join')
    await sleep(1000)
    await offer(load, (values) => {
      for (const v of values) producer.produce(topic, null, v)
    }, () => lat.length)
    await new Promise((resolve) => producer.disconnect(resolve))
    await new Promise((resolve) => consumer.disconnect(resolve))
    return latencySummary(lat)
  },
}
