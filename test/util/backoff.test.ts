import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffMs } from '../../src/util/backoff.js'

describe('backoffMs (the Java client exponential back-off)', () => {
  it('doubles from baseMs, stops at maxMs, and jitters by at most ±20%', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, baseMs, maxMs, r) => {
        const term = Math.min(baseMs * 2 ** (attempt - 1), maxMs)
        const d = backoffMs(attempt, { baseMs, maxMs, random: () => r })
        expect(d).toBeGreaterThanOrEqual(Math.floor(term * 0.8))
        expect(d).toBeLessThanOrEqual(Math.ceil(term * 1.2))
        expect(backoffMs(attempt, { baseMs, maxMs, jitter: 0 })).toBe(term)
      }),
    )
  })
})
