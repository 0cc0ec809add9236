import { describe, expect, it } from 'vitest'
import { ConsumerMetricsRecorder } from '../../src/consumer/metrics.js'

describe('ConsumerMetricsRecorder', () => {
  it('computes rate over a 10 s window, HDR percentiles and lag per assigned partition', () => {
    let now = 1_000_000
    const m = new ConsumerMetricsRecorder(() => now)
    for (let s = 0; s < 5; s++) {
      m.finished(100)
      now += 1000
    }
    // 500 records over the 5 s the recorder has existed (a young recorder divides by its age).
    expect(m.snapshot().recordsPerSecond).toBe(100)
    now += 20_000
    expect(m.snapshot().recordsPerSecond).toBe(0)
    expect(m.snapshot().records).toBe(500)
    for (let i = 1; i <= 100; i++) m.handlerTime(i)
    const h = m.snapshot().handlerTimeMs
    expect(h.count).toBe(100)
    expect(h.p50).toBeCloseTo(50, 1)
    expect(h.p99).toBeCloseTo(99, 0)
    expect(h.max).toBeCloseTo(100, 0)

    m.retainLag(new Set(['t/0', 't/1', 't/2']))
    expect(m.snapshot().assignedPartitions).toBe(3)
    // Nothing known yet: no lag shown rather than a made-up 0.
    expect(m.snapshot().lag).toEqual({})
    m.fetchedPartition('t', 0, 10, 100)
    m.fetchedPartition('t', 1, 4, 0)
    m.fetchedPartition('x', 0, 99, 0) // not assigned: ignored
    m.position('t', 0, 5, 10)
    m.position('t', 1, 7, 4) // a position past the high watermark counts as 0
    m.lagTracker.seed('t', 2, { high: 20, position: 12, committed: 12 })
    expect(m.snapshot().lag).toEqual({ 't/0': 5, 't/1': 0, 't/2': 8 })
    expect(m.snapshot().totalLag).toBe(13)
    expect(m.snapshot().committedLag).toEqual({ 't/2': 8 })
    // The adapter for callers that only know the lag against the partition's high watermark.
    m.lag('t/0', 2)
    expect(m.snapshot().lag['t/0']).toBe(2)
    m.commitDone(3, [{ topic: 't', partition: 0, offset: '9' }])
    expect(m.snapshot().committedLag['t/0']).toBe(1)
    expect(m.snapshot().commits).toBe(1)
    m.retainLag(new Set(['t/0', 't/1']))
    expect(m.snapshot().lag).toEqual({ 't/0': 2, 't/1': 0 })
    expect(m.snapshot().totalLag).toBe(2)
  })
})
