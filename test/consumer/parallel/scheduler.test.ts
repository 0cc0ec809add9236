/** KeyScheduler: per-key order and the concurrency limit of the p-queue underneath, against a model. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyScheduler } from '../../../src/consumer/parallel/scheduler.js'

const tick = () => new Promise<void>((r) => setImmediate(r))

describe('KeyScheduler', () => {
  it('runs each key in the order added, never more than concurrency at once, and counts keys waiting', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 6 }), async (tasks, concurrency) => {
        const s = new KeyScheduler(concurrency, true)
        const order = new Map<number, number[]>()
        let running = 0
        let peak = 0
        let maxWaiting = 0
        tasks.forEach(([key, ticks], i) =>
          s.add(`k${key}`, async () => {
            running++
            peak = Math.max(peak, running)
            for (let t = 0; t < ticks; t++) await tick()
            order.set(key, [...(order.get(key) ?? []), i])
            running--
          }),
        )
        maxWaiting = s.keysWaiting
        // Keys with more than one task have records waiting behind the first.
        const counts = new Map<number, number>()
        for (const [k] of tasks) counts.set(k, (counts.get(k) ?? 0) + 1)
        expect(maxWaiting).toBe([...counts.values()].filter((c) => c > 1).length)
        await s.idle()
        expect(s.size).toBe(0)
        expect(s.keysWaiting).toBe(0)
        expect(peak).toBeLessThanOrEqual(concurrency)
        for (const [, idx] of order) expect(idx).toEqual([...idx].sort((a, b) => a - b))
        expect([...order.values()].flat()).toHaveLength(tasks.length)
      }),
      { numRuns: 100 },
    )
  })
})
