/**
 * Metrics against a real broker: Prometheus text scraped over HTTP from a real prom-client registry, the
 * same numbers through an OpenTelemetry SDK reader, and lag that counts every assigned partition from the
 * moment it is assigned.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { metrics as otelMetrics } from '@opentelemetry/api'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConsumer, createPipeline, createProducer, registerMetrics } from '../../src/index.js'
import type { Consumer, ConsumerMetrics, Producer } from '../../src/index.js'
import { quietLogger } from '../fixtures/consumer-helpers.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { sample } from '../helpers/prometheus.js'

class TestReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

const PARTITIONS = 3
const PER_PARTITION = 120
const N = PARTITIONS * PER_PARTITION

describe('metrics on a real broker', () => {
  const reader = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  const provider = new MeterProvider({ readers: [reader] })
  const registry = new Registry()
  const server = createServer((req, res) => {
    void registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType })
      res.end(text)
    })
  })
  let url = ''
  const scrape = async (): Promise<string> => (await fetch(url)).text()

  const otelValue = async (name: string, attributes: Record<string, string>): Promise<number | undefined> => {
    const { resourceMetrics } = await reader.collect()
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const m of scope.metrics) {
        if (m.descriptor.name !== name) continue
        for (const dp of m.dataPoints) {
          if (Object.entries(attributes).every(([k, v]) => dp.attributes[k] === v)) return dp.value as number
        }
      }
    }
    return undefined
  }

  beforeAll(async () => {
    // The application registers its SDK before kafkatune clients connect.
    otelMetrics.setGlobalMeterProvider(provider)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await provider.shutdown()
    otelMetrics.disable()
  })

  it('Java names with labels and the same numbers in Prometheus and OpenTelemetry; lag counts from assignment and drops to 0', async () => {
    const topic = uniqueName('metrics')
    const groupId = uniqueName('g-metrics')
    const producerId = uniqueName('p')
    const consumerId = uniqueName('c')
    await createTopic(topic, PARTITIONS)

    const producer: Producer = createProducer({ brokers: brokers(), clientId: producerId, logger: quietLogger(), lingerMs: 5 })
    registerMetrics(registry, producer)
    await producer.connect()
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < N; i++) sends.push(producer.send({ topic, partition: i % PARTITIONS, key: `k${i}`, value: `v${i}` }))
    await Promise.all(sends)

    let text = await scrape()
    expect(sample(text, 'kafka_producer_record_send_total', { client_id: producerId })).toBe(N)
    expect(sample(text, 'kafka_producer_topic_record_send_total', { client_id: producerId, topic })).toBe(N)
    expect(sample(text, 'kafka_producer_record_error_total', { client_id: producerId })).toBe(0)
    expect(sample(text, 'kafka_producer_request_total', { client_id: producerId })).toBeGreaterThan(0)
    expect(sample(text, 'kafka_producer_request_latency_avg', { client_id: producerId })).toBeGreaterThan(0)
    expect(sample(text, 'kafka_producer_batch_size_avg', { client_id: producerId })).toBeGreaterThan(0)
    expect(sample(text, 'kafka_producer_records_per_request_avg', { client_id: producerId })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'kafka_producer_buffer_available_bytes', { client_id: producerId })).toBe(sample(text, 'kafka_producer_buffer_total_bytes', { client_id: producerId }))
    expect(await otelValue('kafka.producer.record-send-total', { client_id: producerId })).toBe(N)
    expect(producer.metrics().recordsSent).toBe(N)

    const consumer: Consumer = createConsumer({
      brokers: brokers(),
      clientId: consumerId,
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      commit: { strategy: 'batch', size: 50 },
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1000,
      fetchMaxWaitMs: 100,
      maxPollRecords: 30,
    })
    registerMetrics(registry, consumer)
    let atAssignment: ConsumerMetrics | null = null
    let textAtAssignment: Promise<string> | null = null
    consumer.on('partitions-assigned', () => {
      // Before the first fetch: nothing consumed yet, yet every partition already counts its lag.
      atAssignment = consumer.metrics()
      textAtAssignment ??= scrape()
    })
    let handled = 0
    await consumer.connect()
    await consumer.run({
      eachMessage: async () => {
        handled++
      },
    })
    await waitFor(() => atAssignment !== null, 30_000)
    const first = atAssignment as unknown as ConsumerMetrics
    expect(first.recordsConsumed).toBe(0)
    expect(first.assignedPartitions).toBe(PARTITIONS)
    expect(first.totalLag).toBe(N)
    for (let p = 0; p < PARTITIONS; p++) expect(first.lag[`${topic}/${p}`]).toBe(PER_PARTITION)
    const firstText = await textAtAssignment!
    for (let p = 0; p < PARTITIONS; p++) {
      expect(sample(firstText, 'kafka_consumer_records_lag', { client_id: consumerId, group_id: groupId, topic, partition: String(p) })).toBe(PER_PARTITION)
    }

    const settled = (c: ConsumerMetrics): boolean => c.totalLag === 0 && Object.keys(c.committedLag).length === PARTITIONS && Object.values(c.committedLag).every((l) => l === 0)
    await waitFor(() => handled >= N && settled(consumer.metrics()), 60_000)
    const m = consumer.metrics()
    text = await scrape()
    const labels = { client_id: consumerId, group_id: groupId }
    expect(sample(text, 'kafka_consumer_records_consumed_total', labels)).toBe(N)
    expect(sample(text, 'kafka_consumer_topic_records_consumed_total', { ...labels, topic })).toBe(N)
    expect(sample(text, 'kafka_consumer_bytes_consumed_total', labels)).toBeGreaterThan(N * 4)
    // records-lag-max is the max over the window (as Java's): every partition is at 0 now, yet the lag it had
    // while catching up moments ago still shows.
    expect(sample(text, 'kafka_consumer_records_lag_max', labels)).toBeGreaterThan(0)
    expect(sample(text, 'kafka_consumer_records_lag_max', labels)).toBeLessThanOrEqual(PER_PARTITION)
    for (let p = 0; p < PARTITIONS; p++) {
      expect(sample(text, 'kafka_consumer_records_lag', { ...labels, topic, partition: String(p) })).toBe(0)
      expect(sample(text, 'kafka_consumer_records_lag_committed', { ...labels, topic, partition: String(p) })).toBe(0)
    }
    expect(sample(text, 'kafka_consumer_assigned_partitions', labels)).toBe(PARTITIONS)
    expect(sample(text, 'kafka_consumer_fetch_total', labels)).toBeGreaterThan(0)
    expect(sample(text, 'kafka_consumer_commit_total', labels)).toBe(m.commits)
    expect(sample(text, 'kafka_consumer_commit_total', labels)).toBeGreaterThan(0)
    expect(sample(text, 'kafka_consumer_rebalance_total', labels)).toBe(1)
    expect(sample(text, 'kafka_consumer_last_poll_seconds_ago', labels)).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'kafka_consumer_last_poll_seconds_ago', labels)).toBeLessThan(10)

    expect(await otelValue('kafka.consumer.records-consumed-total', labels)).toBe(N)
    expect(await otelValue('kafka.consumer.records-lag', { ...labels, topic, partition: '0' })).toBe(0)
    expect(await otelValue('kafka.consumer.commit-total', labels)).toBe(m.commits)

    await consumer.disconnect()
    await producer.disconnect()
    text = await scrape()
    expect(text).not.toContain(consumerId)
    expect(text).not.toContain(producerId)
  })

  it("with ordering 'key' too, lag counts from assignment and reaches 0", async () => {
    const topic = uniqueName('metrics-key')
    await createTopic(topic, PARTITIONS)
    const producer = createProducer({ brokers: brokers(), logger: quietLogger() })
    await producer.connect()
    await Promise.all(Array.from({ length: N }, (_, i) => producer.send({ topic, partition: i % PARTITIONS, key: `k${i % 7}`, value: `v${i}` })))
    await producer.disconnect()
    const consumer = createConsumer({
      brokers: brokers(),
      groupId: uniqueName('g-metrics-key'),
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      ordering: 'key',
      concurrency: 8,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1000,
      fetchMaxWaitMs: 100,
    })
    let atAssignment: ConsumerMetrics | null = null
    consumer.on('partitions-assigned', () => {
      atAssignment ??= consumer.metrics()
    })
    let handled = 0
    await consumer.connect()
    try {
      await consumer.run({
        eachMessage: async () => {
          handled++
        },
      })
      await waitFor(() => atAssignment !== null, 30_000)
      expect((atAssignment as unknown as ConsumerMetrics).totalLag).toBe(N)
      await waitFor(() => handled >= N && consumer.metrics().totalLag === 0, 60_000)
      expect(Object.keys(consumer.metrics().lag)).toHaveLength(PARTITIONS)
    } finally {
      await consumer.disconnect()
    }
  })

  it('a pipeline reports its consumer side and its producers (as one producer) under the Java names', async () => {
    const input = uniqueName('metrics-pipe-in')
    const output = uniqueName('metrics-pipe-out')
    const groupId = uniqueName('metrics-pipe-group')
    await createTopic(input, 2)
    await createTopic(output, 1)
    const producer = createProducer({ brokers: brokers(), logger: quietLogger() })
    await producer.connect()
    await Promise.all(Array.from({ length: 40 }, (_, i) => producer.send({ topic: input, partition: i % 2, value: String(i) })))
    await producer.disconnect()
    const pipeClient = uniqueName('metrics-pipe-client')
    const pipeline = createPipeline({
      brokers: brokers(),
      logger: quietLogger(),
      clientId: pipeClient,
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('metrics-pipe-tx'),
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, fetchMaxWaitMs: 100 },
      transform: async (msg) => ({ value: msg.value ?? '' }),
    })
    const local = new Registry()
    registerMetrics(local, pipeline)
    // Registering again (the same pipeline, or on a registry that has it) is no error and no second series.
    registerMetrics(local, pipeline)
    await pipeline.run()
    try {
      await waitFor(() => pipeline.metrics().transactionsCommitted > 0 && pipeline.metrics().outputRecords >= 40, 60_000)
      const text = await local.metrics()
      expect(sample(text, 'kafka_consumer_records_consumed_total', { group_id: groupId })).toBe(40)
      await waitFor(async () => sample(await local.metrics(), 'kafka_consumer_records_lag', { group_id: groupId, topic: input, partition: '0' }) === 0, 30_000)
      expect(sample(await local.metrics(), 'kafka_consumer_records_lag', { group_id: groupId, topic: input, partition: '1' })).toBe(0)
      // The transactional producers (one per input partition) show as one producer of the pipeline's clientId.
      const after = await local.metrics()
      const sends = after.split('\n').filter((l) => l.startsWith('kafka_producer_record_send_total{'))
      expect(sends).toEqual([`kafka_producer_record_send_total{client_id="${pipeClient}"} 40`])
      expect(sample(after, 'kafka_producer_topic_record_send_total', { client_id: pipeClient, topic: output })).toBe(40)
      expect(sample(after, 'kafka_producer_request_total', { client_id: pipeClient })).toBeGreaterThan(0)
      expect(sample(after, 'kafka_producer_request_latency_avg', { client_id: pipeClient })).toBeGreaterThan(0)
      expect(sample(after, 'kafka_producer_buffer_total_bytes', { client_id: pipeClient })).toBeGreaterThan(0)
      expect(sample(after, 'kafka_consumer_fetch_size_max', { group_id: groupId })).toBeGreaterThan(0)
      // OpenTelemetry: one data point, not one per producer.
      const { resourceMetrics } = await reader.collect()
      const points = resourceMetrics.scopeMetrics.flatMap((sm) =>
        sm.metrics.filter((m) => m.descriptor.name === 'kafka.producer.record-send-total').flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]),
      )
      expect(points.filter((p) => p.attributes.client_id === pipeClient).map((p) => p.value)).toEqual([40])
    } finally {
      await pipeline.stop()
    }
    // Stopped: nothing of the pipeline is left in the scrape (no stale series).
    expect(await local.metrics()).not.toContain(pipeClient)
    expect(await local.metrics()).not.toContain(groupId)
  })
})
