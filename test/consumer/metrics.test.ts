import { describe, expect, it } from 'vitest'
import { ConsumerMetricsRecorder } from '../../src/consumer/metrics.js'

describe('ConsumerMetricsRecorder', () => {
  it('computes rate over a 10 s window, percentiles and total lag', () => {
    let now = 1_000_000
    const m = new ConsumerMetricsRecorder(() => now)
    for (let s = 0; s < 5; s++) {
      m.finished(100)
      now += 1000
    }
    expect(m.snapshot().recordsPerSecond).toBe(50)
    now += 20_000
    expect(m.snapshot().recordsPerSecond).toBe(0)
    expect(m.snapshot().records).toBe(500)
    for (let i = 1; i <= 100; i++) m.handlerTime(i)
    const h = m.snapshot().handlerTimeMs
    expect(h).toEqual({ p50: 51, p99: 100, max: 100, count: 100 })
    m.lag('t/0', 5)
    m.lag('t/1', -3)
    m.lag('t/2', 7)
    m.retainLag(new Set(['t/0', 't/1']))
    expect(m.snapshot().lag).toEqual({ 't/0': 5, 't/1': 0 })
    expect(m.snapshot().totalLag).toBe(5)
  })
})
