import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Meter, WINDOW_MS, WindowedAverage, WindowedHistogram, WindowedMax, WindowedRate } from '../../src/observability/metrics-window.js'

describe('WindowedHistogram (perf_hooks HDR)', () => {
  it('reports count, mean, max and percentiles within the histogram precision (0.1%)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const h = new WindowedHistogram(() => 0)
        for (const v of values) h.record(v)
        const s = h.summary()
        const sorted = [...values].sort((a, b) => a - b)
        const tol = (x: number) => Math.max(0.002, x * 0.002)
        expect(s.count).toBe(values.length)
        expect(Math.abs(s.max - sorted.at(-1)!)).toBeLessThanOrEqual(tol(sorted.at(-1)!))
        const mean = values.reduce((a, b) => a + b, 0) / values.length
        expect(Math.abs(s.avg - mean)).toBeLessThanOrEqual(tol(mean))
        // p50 lies between the samples around the median (within precision).
        const lo = sorted[Math.max(0, Math.ceil(values.length * 0.5) - 1)]!
        expect(s.p50).toBeGreaterThanOrEqual(lo - tol(lo))
        expect(s.p50).toBeLessThanOrEqual(sorted.at(-1)! + tol(sorted.at(-1)!))
        expect(s.p99).toBeGreaterThanOrEqual(s.p50)
      }),
      { numRuns: 60 },
    )
  })

  it('records 0 ms as the smallest unit instead of failing', () => {
    const h = new WindowedHistogram(() => 0)
    h.record(0)
    expect(h.summary()).toMatchObject({ count: 1, max: 0.001 })
  })

  it('forgets samples older than two windows, keeps the previous window', () => {
    let now = 0
    const h = new WindowedHistogram(() => now)
    h.record(500)
    now = WINDOW_MS + 1
    h.record(10)
    expect(h.summary().max).toBeCloseTo(500, 0)
    expect(h.summary().count).toBe(2)
    now = 2 * WINDOW_MS + 2
    expect(h.summary()).toMatchObject({ count: 1 })
    expect(h.summary().max).toBeCloseTo(10, 1)
    now = 5 * WINDOW_MS
    expect(h.summary()).toEqual({ count: 0, avg: 0, max: 0, p50: 0, p99: 0 })
  })
})

describe('WindowedRate and Meter', () => {
  it('divides by the age while young, by the window after, and drops old seconds', () => {
    let now = 0
    const r = new WindowedRate(() => now)
    now = 2_000
    r.add(100)
    expect(r.perSecond()).toBeCloseTo(50)
    now = 20_000
    r.add(30)
    expect(r.perSecond()).toBeCloseTo(3)
  })

  it('a meter keeps the total forever and the rate for the window', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 50 })), { maxLength: 50 }), (steps) => {
        let now = 0
        const m = new Meter(() => now)
        let total = 0
        for (const [dt, v] of steps) {
          now += dt
          m.add(v)
          total += v
        }
        expect(m.total).toBe(total)
        expect(m.rate.perSecond()).toBeGreaterThanOrEqual(0)
        expect(m.rate.perSecond() * Math.min(WINDOW_MS / 1000, Math.max(0.001, now / 1000))).toBeLessThanOrEqual(total + 1e-6)
      }),
    )
  })
})

describe('WindowedMax and WindowedAverage', () => {
  it('max and average over the last one to two windows; nothing after two idle windows', () => {
    let now = 0
    const max = new WindowedMax(() => now)
    const avg = new WindowedAverage(() => now)
    expect(max.max()).toBe(-1)
    expect(avg.average()).toBeNull()
    max.record(7)
    max.record(3)
    avg.record(2)
    avg.record(4)
    expect(max.max()).toBe(7)
    expect(avg.average()).toBe(3)
    now = 10_000
    max.record(5)
    avg.record(9)
    expect(max.max()).toBe(7)
    expect(avg.average()).toBe(5)
    expect(avg.count()).toBe(3)
    now = 20_000
    expect(max.max()).toBe(5)
    expect(avg.average()).toBe(9)
    now = 45_000
    expect(max.max()).toBe(-1)
    expect(avg.average()).toBeNull()
  })
})
