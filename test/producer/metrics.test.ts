import { describe, expect, it } from 'vitest'
import { ProducerMetricsRecorder } from '../../src/producer/metrics.js'
import type { MetricDescriptor } from '../../src/observability/metrics-catalog.js'

function collected(m: ProducerMetricsRecorder): Map<string, number> {
  const out = new Map<string, number>()
  m.collect((d: MetricDescriptor, v, labels) => out.set(`${d.group}:${d.name}${labels.topic === undefined ? '' : `:${labels.topic}`}`, v))
  return out
}

describe('ProducerMetricsRecorder', () => {
  it('computes batch averages, maxima, latency percentiles (HDR), rates and errors by code', () => {
    let now = 1_000_000
    const m = new ProducerMetricsRecorder(() => now)
    now += 2_000
    for (let i = 1; i <= 100; i++) m.request(i, 20)
    m.acked('t', 10, 1_000, now - 40, now - 20)
    m.acked('u', 30, 5_000, now - 10, now - 5)
    m.failed('DELIVERY_TIMEOUT', 3)
    m.failed('DELIVERY_TIMEOUT', 2)
    m.failedInTopic('t', 5)
    m.retried('t', 10)
    const s = m.snapshot({ inUse: 7, capacity: 100, recordsInFlight: 2 })
    expect(s.recordsSent).toBe(40)
    expect(s.bytesSent).toBe(6_000)
    expect(s.batchRecordsAvg).toBe(20)
    expect(s.batchRecordsMax).toBe(30)
    expect(s.batchBytesAvg).toBe(3_000)
    expect(s.batchBytesMax).toBe(5_000)
    expect(s.requests).toBe(100)
    // HDR histograms with three significant figures: within 0.1%.
    expect(s.requestLatencyP50Ms).toBeCloseTo(50, 1)
    expect(s.requestLatencyP99Ms).toBeCloseTo(99, 0)
    expect(s.requestLatencyMaxMs).toBeCloseTo(100, 0)
    expect(s.requestLatencyAvgMs).toBeCloseTo(50.5, 0)
    expect(s.recordLatencyP99Ms).toBeCloseTo(40, 1)
    // 40 records over the 2 s the recorder has existed.
    expect(s.recordsPerSecond).toBeCloseTo(20)
    expect(s.bytesPerSecond).toBeCloseTo(3_000)
    expect(s.errors).toEqual({ DELIVERY_TIMEOUT: 5 })
    expect(s.retries).toBe(1)
    expect(s.recordRetries).toBe(10)
    expect(s.compressionRatio).toBeNull()
    m.encoded(1_000, 250)
    m.encoded(3_000, 750)
    expect(m.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).compressionRatio).toBe(0.25)
    expect([s.bufferBytesInUse, s.bufferMemory, s.recordsInFlight]).toEqual([7, 100, 2])
  })

  it('reports the same numbers under the Java names, per client and per topic', () => {
    let now = 0
    const m = new ProducerMetricsRecorder(() => now, 'billing')
    m.gauges = () => ({ bufferInUse: 300, bufferCapacity: 1_000, requestsInFlight: 2 })
    now = 1_000
    m.dispatched(4)
    m.dispatched(8)
    m.request(10, 30)
    m.request(20, 10)
    m.acked('a', 10, 1_000, now - 5, now - 1)
    m.acked('b', 30, 3_000, now - 5, now - 1)
    m.failed('KAFKA', 2)
    m.failedInTopic('a', 2)
    m.encoded(4_000, 1_000)
    m.bufferWaited(5_000)
    const c = collected(m)
    expect(c.get('producer:record-send-total')).toBe(40)
    expect(c.get('producer-topic:record-send-total:a')).toBe(10)
    expect(c.get('producer-topic:record-send-total:b')).toBe(30)
    expect(c.get('producer-topic:byte-total:b')).toBe(3_000)
    expect(c.get('producer:record-error-total')).toBe(2)
    expect(c.get('producer-topic:record-error-total:a')).toBe(2)
    expect(c.get('producer:request-total')).toBe(2)
    expect(c.get('producer:request-latency-avg')).toBeCloseTo(15, 1)
    expect(c.get('producer:request-latency-max')).toBeCloseTo(20, 1)
    expect(c.get('producer:records-per-request-avg')).toBeCloseTo(20, 1)
    expect(c.get('producer:record-queue-time-avg')).toBeCloseTo(6, 1)
    expect(c.get('producer:record-queue-time-max')).toBeCloseTo(8, 1)
    expect(c.get('producer:batch-size-avg')).toBeCloseTo(2_000, -1)
    expect(c.get('producer:batch-size-max')).toBeCloseTo(3_000, -1)
    expect(c.get('producer:record-size-avg')).toBe(100)
    expect(c.get('producer:compression-rate-avg')).toBe(0.25)
    expect(c.get('producer:buffer-total-bytes')).toBe(1_000)
    expect(c.get('producer:buffer-available-bytes')).toBe(700)
    expect(c.get('producer:requests-in-flight')).toBe(2)
    expect(c.get('producer:bufferpool-wait-time-ns-total')).toBe(5_000)
    expect(c.get('producer:record-send-rate')).toBeCloseTo(40)
  })

  it('counts the time send() calls wait for buffer space, also when the wait fails', async () => {
    const m = new ProducerMetricsRecorder()
    await m.bufferWait(new Promise((resolve) => setTimeout(resolve, 20)))
    await expect(m.bufferWait(Promise.reject(new Error('timeout')))).rejects.toThrow('timeout')
    const ns = collected(m).get('producer:bufferpool-wait-time-ns-total')!
    expect(ns).toBeGreaterThanOrEqual(15e6)
    expect(m.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).bufferWaitMs).toBeCloseTo(ns / 1e6)
  })

  it('rates cover only the last 10 seconds', () => {
    let now = 0
    const m = new ProducerMetricsRecorder(() => now)
    now = 1_000
    m.acked('t', 1_000, 1, now, now)
    now = 30_000
    m.acked('t', 50, 1, now, now)
    expect(m.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).recordsPerSecond).toBeCloseTo(5)
  })
})
