import { describe, expect, it } from 'vitest'
import { ProducerMetricsRecorder } from '../../src/producer/metrics.js'

describe('ProducerMetricsRecorder', () => {
  it('computes batch averages, maxima, latency percentiles, rates and errors by code', () => {
    let now = 1_000_000
    const m = new ProducerMetricsRecorder(() => now)
    now += 2_000
    for (let i = 1; i <= 100; i++) m.request(i)
    m.batchAcked(10, 1_000, now - 40, now - 20)
    m.batchAcked(30, 5_000, now - 10, now - 5)
    m.failed('DELIVERY_TIMEOUT', 3)
    m.failed('DELIVERY_TIMEOUT', 2)
    m.retried()
    const s = m.snapshot({ inUse: 7, capacity: 100, recordsInFlight: 2 })
    expect(s.recordsSent).toBe(40)
    expect(s.bytesSent).toBe(6_000)
    expect(s.batchRecordsAvg).toBe(20)
    expect(s.batchRecordsMax).toBe(30)
    expect(s.batchBytesAvg).toBe(3_000)
    expect(s.batchBytesMax).toBe(5_000)
    expect(s.requests).toBe(100)
    expect(s.requestLatencyP50Ms).toBe(50)
    expect(s.requestLatencyP99Ms).toBe(99)
    expect(s.recordLatencyP99Ms).toBe(40)
    // 40 records over the 2 s the recorder has existed.
    expect(s.recordsPerSecond).toBeCloseTo(20)
    expect(s.bytesPerSecond).toBeCloseTo(3_000)
    expect(s.errors).toEqual({ DELIVERY_TIMEOUT: 5 })
    expect(s.retries).toBe(1)
    expect(s.compressionRatio).toBeNull()
    m.encoded(1_000, 250)
    m.encoded(3_000, 750)
    expect(m.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).compressionRatio).toBe(0.25)
    expect([s.bufferBytesInUse, s.bufferMemory, s.recordsInFlight]).toEqual([7, 100, 2])
  })

  it('rates cover only the last 10 seconds', () => {
    let now = 0
    const m = new ProducerMetricsRecorder(() => now)
    now = 1_000
    m.batchAcked(1_000, 1, now, now)
    now = 30_000
    m.batchAcked(50, 1, now, now)
    expect(m.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).recordsPerSecond).toBeCloseTo(5)
  })
})
