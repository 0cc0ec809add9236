/** The offset map in the commit metadata: round trips, the smaller encoding, the metadata limit. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_METADATA_MAX_BYTES, decodeOffsetMap, encodeOffsetMap, maxSpan } from '../../../src/consumer/parallel/offset-map.js'

const committedArb = fc.bigInt({ min: 0n, max: 2n ** 53n })
/** Completed offsets as distances above the committed offset (> 0: the committed one itself is incomplete). */
const completedArb = fc.uniqueArray(fc.integer({ min: 1, max: 30_000 }), { maxLength: 3_000 })

describe('offset map', () => {
  it('round-trips any set of completed offsets above the committed one', () => {
    fc.assert(
      fc.property(committedArb, completedArb, (committed, rel) => {
        const completed = rel.map((r) => committed + BigInt(r))
        const encoded = encodeOffsetMap(committed, completed)
        if (completed.length === 0) {
          expect(encoded).toBeNull()
          return
        }
        expect(encoded).toMatch(/^kt1:[br]:\d+:[A-Za-z0-9_-]*$/)
        const decoded = decodeOffsetMap(encoded)!
        expect(decoded.committed).toBe(committed)
        expect(decoded.completed).toEqual([...completed].sort((a, b) => (a < b ? -1 : 1)))
      }),
      { numRuns: 300 },
    )
  })

  it('runs of completed records encode as run lengths, scattered ones as a bitset', () => {
    const run = Array.from({ length: 5_000 }, (_, i) => 100n + BigInt(i))
    expect(encodeOffsetMap(0n, run)).toMatch(/^kt1:r:0:/)
    const every2nd = Array.from({ length: 5_000 }, (_, i) => 1n + BigInt(2 * i))
    expect(encodeOffsetMap(0n, every2nd)).toMatch(/^kt1:b:0:/)
  })

  it('any completion set within maxSpan fits the metadata limit', () => {
    fc.assert(
      fc.property(committedArb, fc.integer({ min: 64, max: 8192 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (committed, limit, density, seed) => {
        const span = maxSpan(committed, limit)
        const completed: bigint[] = []
        let x = seed >>> 0
        for (let r = 1; r < span; r++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0
          if (x / 2 ** 32 < density) completed.push(committed + BigInt(r))
        }
        const encoded = encodeOffsetMap(committed, completed)
        expect((encoded ?? '').length).toBeLessThanOrEqual(limit)
      }),
      { numRuns: 60 },
    )
    // The default leaves room for well over 20,000 offsets ahead.
    expect(maxSpan(10n ** 12n, DEFAULT_METADATA_MAX_BYTES)).toBeGreaterThan(20_000)
  })

  it('metadata it did not write decodes to null, never throws', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const d = decodeOffsetMap(s)
        if (!s.startsWith('kt1:')) expect(d).toBeNull()
      }),
    )
    expect(decodeOffsetMap(null)).toBeNull()
    expect(decodeOffsetMap('')).toBeNull()
    expect(decodeOffsetMap('kt2:b:0:AA')).toBeNull()
  })
})
