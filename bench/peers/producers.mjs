/**
 * Producer contenders, each run in its own process: send `count` records of `bytes` to `topic`, acks 1,
 * null keys, and resolve when every record is acknowledged. The window is first send to last ack.
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { CHUNK, HT, IN_FLIGHT, payloads, sleep, timed } from './common.mjs'

const require = createRequire(import.meta.url)
/** Most send() promises the kafkatune contender keeps at once. */
const WINDOW = 16_384

export const producers = {
  async kafkatune({ brokers, topic, bytes, count, compression }) {
    const { pino } = await import('pino')
    const { createProducer, serializers } = await import('../../dist/index.js')
    const producer = createProducer({ brokers, logger: pino({ level: 'silent' }), preset: 'high-throughput', compression, valueSerializer: serializers.bytes() })
    await producer.connect()
    const values = payloads(bytes)
    await producer.send({ topic, value: values[0] })
    // The last `window` promises are kept (an application awaiting a bounded number of sends). Earlier
    // runs kept all of them (bufferMemory / record size > the record count), so every resolved promise and
    // its RecordMetadata (~130 B a record) stayed alive to the end, which the other contenders do not do
    // (delivery callbacks, chunks). Records in flight stay far below the window (a few hundred at 100 B),
    // so it never holds the loop back; the producer's own backpressure is bufferMemory, as in the Java client.
    const window = Math.min(WINDOW, Math.max(1000, Math.floor(producer.metrics().bufferMemory / (bytes + 21))))
    const result = await timed(count, async () => {
      const pending = new Array(window)
      for (let i = 0; i < count; i++) {
        const slot = i % window
        if (pending[slot] !== undefined) await pending[slot]
        pending[slot] = producer.send({ topic, value: values[i % values.length] })
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
      }
      await producer.flush()
    })
    result.batchRecordsAvg = producer.metrics().batchRecordsAvg
    await producer.disconnect()
    return result
  },

  /**
   * The same producer used as the README shows it for throughput: send() without awaiting each record, then
   * flush(). An application still bounds what it has outstanding: this keeps every 1,000th promise and awaits
   * the oldest once 16 are kept (the same 16,384-record window as above, checked per 1,000 records instead of
   * awaited per record). Producer section only (`BENCH_CONTENDERS=kafkatune,kafkatuneFlush`); failures are
   * counted by the producer and fail the run.
   */
  async kafkatuneFlush({ brokers, topic, bytes, count, compression }) {
    const { pino } = await import('pino')
    const { createProducer, serializers } = await import('../../dist/index.js')
    const producer = createProducer({ brokers, logger: pino({ level: 'silent' }), preset: 'high-throughput', compression, valueSerializer: serializers.bytes() })
    await producer.connect()
    const values = payloads(bytes)
    await producer.send({ topic, value: values[0] })
    const marks = []
    const result = await timed(count, async () => {
      for (let i = 0; i < count; i++) {
        const sent = producer.send({ topic, value: values[i % values.length] })
        if (i % 1000 === 999) {
          marks.push(sent)
          if (marks.length > WINDOW / 1024) await marks.shift()
          await new Promise((r) => setImmediate(r))
        }
      }
      await producer.flush()
    })
    const { errors } = producer.metrics()
    if (Object.keys(errors).length > 0) throw new Error(`kafkatuneFlush: records failed: ${JSON.stringify(errors)}`)
    result.batchRecordsAvg = producer.metrics().batchRecordsAvg
    await producer.disconnect()
    return result
  },

  /**
   * The `exactly-once` preset, committing every `txnMs` (Kafka Streams' exactly_once_v2 commit.interval.ms
   * default, 100 ms; bench/peers/eos.mjs), the same send loop as above inside the transactions.
   */
  async kafkatuneEos({ brokers, topic, bytes, count, txnMs }) {
    const { pino } = await import('pino')
    const { createProducer, serializers } = await import('../../dist/index.js')
    const producer = createProducer({ brokers, logger: pino({ level: 'silent' }), preset: 'exactly-once', transactionalId: `bench-peers-eos-${process.pid}-${Date.now()}`, valueSerializer: serializers.bytes() })
    await producer.connect()
    const values = payloads(bytes)
    await producer.transaction(async (tx) => void (await tx.send({ topic, value: values[0] })))
    const window = Math.min(WINDOW, Math.max(1000, Math.floor(producer.metrics().bufferMemory / (bytes + 21))))
    let transactions = 0
    const result = await timed(count, async () => {
      const pending = new Array(window)
      for (let i = 0; i < count; ) {
        transactions++
        await producer.transaction(async (tx) => {
          const started = performance.now()
          for (; i < count; i++) {
            const slot = i % window
            if (pending[slot] !== undefined) await pending[slot]
            pending[slot] = tx.send({ topic, value: values[i % values.length] })
            if (i % 1000 === 999) {
              await new Promise((r) => setImmediate(r))
              if (performance.now() - started >= txnMs) {
                i++
                return
              }
            }
          }
        })
      }
    })
    result.transactions = transactions
    result.retries = producer.metrics().retries
    await producer.disconnect()
    return result
  },

  async kafkajs({ brokers, topic, bytes, count, compression }) {
    const { default: kafkajs } = await import('kafkajs')
    const { registerCodecs } = await import('../../dist/index.js')
    registerCodecs()
    const { Kafka, logLevel, CompressionTypes } = kafkajs
    const type = compression === 'lz4' ? CompressionTypes.LZ4 : CompressionTypes.None
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench-kafkajs' })
    const producer = kafka.producer()
    await producer.connect()
    const values = payloads(bytes)
    await producer.send({ topic, acks: 1, compression: type, messages: [{ value: values[0] }] })
    const result = await timed(count, () =>
      chunked(count, async (from, to) => {
        const messages = []
        for (let i = from; i < to; i++) messages.push({ value: values[i % values.length] })
        await producer.sendBatch({ acks: 1, compression: type, topicMessages: [{ topic, messages }] })
      }),
    )
    await producer.disconnect()
    return result
  },

  async platformatic({ brokers, topic, bytes, count, compression }) {
    const { Producer, ProduceAcks } = await import('@platformatic/kafka')
    const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: brokers, acks: ProduceAcks.LEADER, compression, idempotent: false, autocreateTopics: false })
    const values = payloads(bytes)
    await producer.send({ messages: [{ topic, value: values[0] }], acks: ProduceAcks.LEADER, compression })
    const result = await timed(count, () =>
      chunked(count, async (from, to) => {
        const messages = []
        for (let i = from; i < to; i++) messages.push({ topic, value: values[i % values.length] })
        await producer.send({ messages, acks: ProduceAcks.LEADER, compression })
      }),
    )
    await producer.close()
    return result
  },

  /** node-rdkafka (librdkafka): `produce()` per record with the `high-throughput` knobs, one delivery report per record. */
  async rdkafka({ brokers, topic, bytes, count, compression }) {
    const Kafka = require('node-rdkafka')
    const producer = new Kafka.Producer({
      'metadata.broker.list': brokers.join(','),
      'client.id': 'bench-rdkafka',
      'request.required.acks': HT.acks,
      'linger.ms': HT.lingerMs,
      'batch.size': HT.batchSize,
      'queue.buffering.max.kbytes': HT.bufferMemory / 1024,
      'compression.codec': compression,
      'enable.idempotence': false,
      dr_cb: true,
    })
    await new Promise((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve())))
    producer.setPollInterval(5)
    let acked = 0
    let failed = null
    producer.on('delivery-report', (err) => {
      if (err) failed ??= err
      acked++
    })
    const values = payloads(bytes)
    producer.produce(topic, null, values[0])
    await untilAcked(() => acked >= 1 || failed !== null)
    acked = 0
    const result = await timed(count, async () => {
      for (let i = 0; i < count; i++) {
        for (;;) {
          try {
            producer.produce(topic, null, values[i % values.length])
            break
          } catch (err) {
            // Local queue full: let delivery reports drain it.
            if (err?.code !== Kafka.CODES.ERRORS.ERR__QUEUE_FULL) throw err
            await sleep(1)
          }
        }
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
      }
      await untilAcked(() => acked >= count || failed !== null)
    })
    if (failed !== null) throw failed
    await new Promise((resolve) => producer.disconnect(resolve))
    return result
  },
}

/** `IN_FLIGHT` workers each sending the next `CHUNK` records until `count` are sent. */
async function chunked(count, sendRange) {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const from = next
      const to = Math.min(count, from + CHUNK)
      next = to
      await sendRange(from, to)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

async function untilAcked(pred) {
  const deadline = Date.now() + 300_000
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('node-rdkafka: delivery reports did not arrive in 300 s')
    await new Promise((r) => setTimeout(r, 1))
  }
}
