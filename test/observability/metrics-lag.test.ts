import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LagTracker, seedLag } from '../../src/observability/metrics-lag.js'
import type { PartitionLagValue } from '../../src/observability/metrics-lag.js'

const values = (t: LagTracker): PartitionLagValue[] => {
  const out: PartitionLagValue[] = []
  t.forEach((v) => out.push(v))
  return out
}

describe('LagTracker', () => {
  it('counts every assigned partition once seeded, before any fetch', () => {
    const t = new LagTracker()
    t.assign({ a: [0, 1], b: [3] })
    expect(t.assigned).toBe(3)
    expect(values(t).map((v) => v.lag)).toEqual([null, null, null])
    t.seed('a', 0, { high: 100, position: 40, committed: 40 })
    t.seed('a', 1, { high: 7, position: 0, committed: null })
    t.seed('b', 3, { high: 5, position: 5, committed: 5 })
    t.seed('c', 0, { high: 5, position: 0, committed: null }) // not assigned
    expect(values(t)).toEqual([
      { topic: 'a', partition: 0, lag: 60, committedLag: 60 },
      { topic: 'a', partition: 1, lag: 7, committedLag: null },
      { topic: 'b', partition: 3, lag: 0, committedLag: 0 },
    ])
  })

  it('what fetches and progress taught wins over a late seed; kept partitions keep their state', () => {
    const t = new LagTracker()
    t.assign({ a: [0] })
    t.highWatermark('a', 0, 50)
    t.position('a', 0, 45)
    t.seed('a', 0, { high: 40, position: 0, committed: 10 })
    expect(values(t)[0]).toMatchObject({ lag: 5, committedLag: 40 })
    t.assign({ a: [0, 1] })
    expect(values(t)[0]).toMatchObject({ lag: 5 })
    t.assign({ a: [1] })
    expect(values(t)).toEqual([{ topic: 'a', partition: 1, lag: null, committedLag: null }])
  })

  it('lag is never negative, whatever order high watermarks and positions arrive in', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('hw' as const), v: fc.integer({ min: 0, max: 1_000 }) }),
            fc.record({ kind: fc.constant('pos' as const), v: fc.integer({ min: 0, max: 1_000 }) }),
            fc.record({ kind: fc.constant('lag' as const), v: fc.integer({ min: -10, max: 1_000 }) }),
          ),
          { maxLength: 40 },
        ),
        (ops) => {
          const t = new LagTracker()
          t.assign({ t: [0] })
          for (const op of ops) {
            if (op.kind === 'hw') t.highWatermark('t', 0, op.v)
            else if (op.kind === 'pos') t.position('t', 0, op.v)
            else t.positionFromLag('t', 0, Math.max(0, op.v))
          }
          const [v] = values(t)
          if (v!.lag !== null) expect(v!.lag).toBeGreaterThanOrEqual(0)
        },
      ),
    )
  })

  it('records-lag-max is the largest lag over the window (10-20 s), not only the current one', () => {
    let now = 0
    const t = new LagTracker(() => now)
    t.assign({ a: [0, 1] })
    expect(t.maxLag()).toBe(0)
    t.seed('a', 0, { high: 100, position: 0, committed: null })
    t.seed('a', 1, { high: 10, position: 0, committed: null })
    expect(t.maxLag()).toBe(100)
    now = 3_000
    t.position('a', 0, 100, 100)
    t.position('a', 1, 10, 10)
    // Caught up: every current lag is 0, the window still holds the 100.
    expect(values(t).map((v) => v.lag)).toEqual([0, 0])
    expect(t.maxLag()).toBe(100)
    // A revoked partition's past lag stays in the window too (as Java's sensor samples do).
    t.assign({ a: [1] })
    now = 12_000
    t.highWatermark('a', 1, 15)
    expect(t.maxLag()).toBe(100)
    // Two windows later the old samples are gone; the current lag remains.
    now = 25_000
    expect(t.maxLag()).toBe(5)
    t.position('a', 1, 15, 15)
    now = 50_000
    expect(t.maxLag()).toBe(0)
  })

  it('records-lag-max is never below any current lag (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 30_000 })), { maxLength: 30 }), (ops) => {
        let now = 0
        const t = new LagTracker(() => now)
        t.assign({ t: [0] })
        for (const [hw, pos, dt] of ops) {
          now += dt
          t.highWatermark('t', 0, hw)
          t.position('t', 0, pos)
          const [v] = values(t)
          expect(t.maxLag()).toBeGreaterThanOrEqual(v!.lag ?? 0)
        }
      }),
    )
  })
})

describe('seedLag', () => {
  it("reads a topic's bounds before its committed offsets (the ListOffsets call loads a fresh admin's metadata), and seeds every assigned partition", async () => {
    const calls: string[] = []
    const tracker = new LagTracker()
    tracker.assign({ a: [0, 1], b: [0] })
    await seedLag(
      tracker,
      {
        fetchTopicOffsets: async (topic) => {
          calls.push(`bounds ${topic}`)
          await new Promise((r) => setTimeout(r, 5))
          calls.push(`bounds ${topic} answered`)
          return [0, 1, 2].map((partition) => ({ partition, low: '10', high: '100' }))
        },
      },
      async (topic) => {
        calls.push(`committed ${topic}`)
        return new Map([[0, { offset: '40' }], [1, { offset: null }]])
      },
      { a: [0, 1], b: [0] },
      'earliest',
    )
    expect(calls.indexOf('bounds a answered')).toBeLessThan(calls.indexOf('committed a'))
    expect(calls.indexOf('bounds b answered')).toBeLessThan(calls.indexOf('committed b'))
    expect(calls).toHaveLength(6)
    expect(values(tracker)).toEqual([
      { topic: 'a', partition: 0, lag: 60, committedLag: 60 },
      { topic: 'a', partition: 1, lag: 90, committedLag: null },
      { topic: 'b', partition: 0, lag: 60, committedLag: 60 },
    ])
  })
})
