/**
 * The Java metrics sourced from broker answers, on a real broker: throttle times under a client quota
 * (throttle_time_ms of Produce and Fetch responses), fetch sizes, and the per-topic compression rate.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createConsumer, createProducer, registerMetrics } from '../../src/index.js'
import { quietLogger } from '../fixtures/consumer-helpers.js'
import { runJava } from '../helpers/java.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { sample } from '../helpers/prometheus.js'

const RECORDS = 16
const VALUE = 'x'.repeat(1024)

describe('Java metrics from broker answers', () => {
  it('throttle times under a client quota, fetch sizes, and the compression rate per topic', async () => {
    const topic = uniqueName('quota')
    const clientId = uniqueName('quota-client')
    await createTopic(topic, 1)
    // A client quota of 1 KiB/s each way for this client id: the broker answers with throttle_time_ms.
    await runJava('kafka.admin.ConfigCommand', [
      '--bootstrap-server', brokers()[0]!, '--alter', '--entity-type', 'clients', '--entity-name', clientId,
      '--add-config', 'producer_byte_rate=1024,consumer_byte_rate=1024',
    ])
    const registry = new Registry()
    const producer = createProducer({ brokers: brokers(), clientId, logger: quietLogger(), compression: 'gzip', lingerMs: 20 })
    registerMetrics(registry, producer)
    await producer.connect()
    try {
      // Quotas take a moment to reach the broker's quota manager: send until a response says "throttled".
      await waitFor(async () => {
        await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, key: `k${i}`, value: VALUE })))
        return (sample(await registry.metrics(), 'kafka_producer_produce_throttle_time_max', { client_id: clientId }) ?? 0) > 0
      }, 60_000, 200)
      const text = await registry.metrics()
      const max = sample(text, 'kafka_producer_produce_throttle_time_max', { client_id: clientId })!
      const avg = sample(text, 'kafka_producer_produce_throttle_time_avg', { client_id: clientId })!
      expect(avg).toBeGreaterThan(0)
      expect(avg).toBeLessThanOrEqual(max)
      // gzip on repeated bytes: the batches shrink a lot, and the topic's rate says so.
      const rate = sample(text, 'kafka_producer_topic_compression_rate', { client_id: clientId, topic })!
      expect(rate).toBeGreaterThan(0)
      expect(rate).toBeLessThan(0.2)
      expect(sample(text, 'kafka_producer_compression_rate_avg', { client_id: clientId })).toBeCloseTo(rate, 5)
    } finally {
      await producer.disconnect()
    }

    const sent = producer.metrics().recordsSent
    const consumer = createConsumer({
      brokers: brokers(), clientId, groupId: uniqueName('g-quota'), topics: [topic], logger: quietLogger(),
      autoOffsetReset: 'earliest', sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, fetchMaxWaitMs: 100,
    })
    registerMetrics(registry, consumer)
    let handled = 0
    await consumer.connect()
    try {
      await consumer.run({
        eachMessage: async () => {
          handled++
        },
      })
      await waitFor(() => handled >= sent, 60_000)
      const labels = { client_id: clientId }
      await waitFor(async () => (sample(await registry.metrics(), 'kafka_consumer_fetch_throttle_time_max', labels) ?? 0) > 0, 30_000, 200)
      const text = await registry.metrics()
      expect(sample(text, 'kafka_consumer_fetch_throttle_time_avg', labels)).toBeGreaterThan(0)
      // Fetch sizes are the record bytes of a whole response (compressed batches as they came).
      const sizeMax = sample(text, 'kafka_consumer_fetch_size_max', labels)!
      const sizeAvg = sample(text, 'kafka_consumer_fetch_size_avg', labels)!
      expect(sizeMax).toBeGreaterThan(0)
      expect(sizeAvg).toBeGreaterThan(0)
      expect(sizeAvg).toBeLessThanOrEqual(sizeMax)
      expect(sizeMax).toBeLessThanOrEqual(sample(text, 'kafka_consumer_bytes_consumed_total', labels)!)
    } finally {
      await consumer.disconnect()
    }
  })

  it('without a quota the throttle times are 0', async () => {
    const topic = uniqueName('no-quota')
    await createTopic(topic, 1)
    const clientId = uniqueName('free-client')
    const registry = new Registry()
    const producer = createProducer({ brokers: brokers(), clientId, logger: quietLogger() })
    registerMetrics(registry, producer)
    await producer.connect()
    try {
      await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, value: `v${i}` })))
      const text = await registry.metrics()
      expect(sample(text, 'kafka_producer_produce_throttle_time_max', { client_id: clientId })).toBe(0)
      expect(sample(text, 'kafka_producer_produce_throttle_time_avg', { client_id: clientId })).toBe(0)
      // No compression: 1 for the client and the topic.
      expect(sample(text, 'kafka_producer_topic_compression_rate', { client_id: clientId, topic })).toBe(1)
    } finally {
      await producer.disconnect()
    }
  })
})
