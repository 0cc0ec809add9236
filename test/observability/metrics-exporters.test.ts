import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { metrics as otelMetrics } from '@opentelemetry/api'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { KafkatuneError } from '../../src/errors.js'
import { registerMetrics } from '../../src/index.js'
import { C, METRICS, P, labelNames, otelName, prometheusName } from '../../src/observability/metrics-catalog.js'
import { registerOtelMetrics } from '../../src/observability/metrics-otel.js'
import { withMetricsSources } from '../../src/observability/metrics-source.js'
import { ConsumerMetricsRecorder } from '../../src/consumer/metrics.js'
import { ProducerMetricsRecorder } from '../../src/producer/metrics.js'

class TestReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

function producerRecorder(clientId: string): ProducerMetricsRecorder {
  const m = new ProducerMetricsRecorder(Date.now, clientId)
  m.active = true
  m.acked('orders', 7, 700, Date.now() - 3, Date.now() - 1)
  m.request(4, 7)
  return m
}

describe('metric catalog', () => {
  it('has unique exported names that are valid for Prometheus and OpenTelemetry', () => {
    const prom = METRICS.map(prometheusName)
    expect(new Set(prom).size).toBe(METRICS.length)
    for (const n of prom) expect(n).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
    for (const m of METRICS) expect(otelName(m)).toMatch(/^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/)
    expect(prometheusName(P.recordSendTotal)).toBe('kafka_producer_record_send_total')
    expect(prometheusName(C.recordsLag)).toBe('kafka_consumer_records_lag')
    expect(otelName(P.topicRecordSendTotal)).toBe('kafka.producer.topic.record-send-total')
  })

  it('the README table lists every metric with its labels', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8')
    for (const m of METRICS) expect(readme).toContain(`| \`${prometheusName(m)}\` | ${m.kind} | ${labelNames(m.group).join(', ')} |`)
  })
})

describe('registerMetrics (prom-client)', () => {
  it('exposes connected clients with their labels, adds clients later, and removes them', async () => {
    const registry = new Registry()
    const a = producerRecorder('a')
    const b = producerRecorder('b')
    const stopA = registerMetrics(registry, withMetricsSources({ metrics: () => ({}) }, a))
    let text = await registry.metrics()
    expect(text).toContain('# TYPE kafka_producer_record_send_total counter')
    expect(text).toContain('kafka_producer_record_send_total{client_id="a"} 7')
    expect(text).toContain('kafka_producer_topic_record_send_total{client_id="a",topic="orders"} 7')
    expect(text).not.toContain('client_id="b"')
    registerMetrics(registry, withMetricsSources({ metrics: () => ({}) }, b))
    text = await registry.metrics()
    expect(text).toContain('kafka_producer_record_send_total{client_id="b"} 7')
    b.active = false
    text = await registry.metrics()
    expect(text).not.toContain('client_id="b"')
    stopA()
    text = await registry.metrics()
    expect(text).not.toContain('client_id="a"')
  })

  it('refuses objects kafkatune did not create and names clashing with the registry', () => {
    const registry = new Registry()
    expect(() => registerMetrics(registry, { metrics: () => ({}) })).toThrow(KafkatuneError)
    const clash = new Registry()
    clash.registerMetric({ name: 'kafka_producer_record_send_total', get: () => Promise.resolve({}) } as never)
    expect(() => registerMetrics(clash, withMetricsSources({ metrics: () => ({}) }, producerRecorder('x')))).toThrow(/already has a metric named kafka_producer_record_send_total/)
  })
})

describe('OpenTelemetry metrics', () => {
  const reader = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  const provider = new MeterProvider({ readers: [reader] })
  otelMetrics.setGlobalMeterProvider(provider)
  afterAll(async () => {
    await provider.shutdown()
    otelMetrics.disable()
  })

  const points = async (name: string): Promise<{ value: number; attributes: Record<string, unknown> }[]> => {
    const { resourceMetrics } = await reader.collect()
    const out: { value: number; attributes: Record<string, unknown> }[] = []
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const m of scope.metrics) {
        if (m.descriptor.name !== name) continue
        for (const dp of m.dataPoints) out.push({ value: dp.value as number, attributes: dp.attributes })
      }
    }
    return out
  }

  it('observes every connected client once per collection and stops after unregistering', async () => {
    const p = producerRecorder('otel-p')
    const c = new ConsumerMetricsRecorder(Date.now, 'otel-c', 'g1')
    c.active = true
    c.retainLag(new Set(['t/0']))
    c.fetchedPartition('t', 0, 12, 100)
    c.position('t', 0, 2, 12)
    const stopP = registerOtelMetrics(p)
    const stopC = registerOtelMetrics(c)
    expect(await points('kafka.producer.record-send-total')).toEqual([{ value: 7, attributes: { client_id: 'otel-p' } }])
    expect(await points('kafka.consumer.records-lag')).toEqual([{ value: 10, attributes: { client_id: 'otel-c', group_id: 'g1', topic: 't', partition: '0' } }])
    expect(await points('kafka.consumer.bytes-consumed-total')).toEqual([{ value: 100, attributes: { client_id: 'otel-c', group_id: 'g1' } }])
    let reads = 0
    const collect = p.collect.bind(p)
    p.collect = (sink) => {
      reads++
      collect(sink)
    }
    await points('kafka.producer.record-send-total')
    expect(reads).toBe(1)
    stopP()
    stopC()
    p.acked('orders', 5, 500, Date.now(), Date.now())
    // The SDK keeps the last cumulative point; kafkatune's callback is no longer called.
    expect(await points('kafka.producer.record-send-total')).toEqual([{ value: 7, attributes: { client_id: 'otel-p' } }])
    expect(reads).toBe(1)
  })
})
