import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { sticky } from '../../src/partitioners/sticky.js'
import type { PartitionerContext } from '../../src/partitioners/types.js'

/** A seeded PRNG (mulberry32) so the statistical checks are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ctx = (partitionCount: number, extra: Partial<PartitionerContext> = {}): PartitionerContext => ({
  topic: 't',
  key: null,
  keyBytes: null,
  value: 'v',
  partitionCount,
  ...extra,
})

describe('sticky partitioner', () => {
  it('sticks to one partition until its batch closes, then moves to another', () => {
    const p = sticky({ random: seeded(1) })
    const first = p.partition(ctx(6))
    for (let i = 0; i < 100; i++) expect(p.partition(ctx(6))).toBe(first)
    p.onBatchClosed!('t', (first + 1) % 6) // another partition's batch: no switch
    expect(p.partition(ctx(6))).toBe(first)
    p.onBatchClosed!('t', first)
    const second = p.partition(ctx(6))
    expect(second).not.toBe(first)
    expect(p.partition(ctx(6))).toBe(second)
  })

  it('switches after batchSize bytes went to the partition (KIP-794)', () => {
    const p = sticky({ batchSize: 1000, random: seeded(2) })
    const first = p.partition(ctx(4, { recordSize: 400 }))
    expect(p.partition(ctx(4, { recordSize: 400 }))).toBe(first)
    expect(p.partition(ctx(4, { recordSize: 400 }))).toBe(first) // 1200 bytes now: the next record moves
    expect(p.partition(ctx(4, { recordSize: 400 }))).not.toBe(first)
  })

  it('keeps state per topic', () => {
    const p = sticky({ random: seeded(3) })
    const a = p.partition({ ...ctx(50), topic: 'a' })
    const b = p.partition({ ...ctx(50), topic: 'b' })
    p.onBatchClosed!('b', b)
    expect(p.partition({ ...ctx(50), topic: 'a' })).toBe(a)
  })

  it('uses only available partitions when they are known', () => {
    const p = sticky({ random: seeded(4) })
    for (let i = 0; i < 200; i++) {
      const chosen = p.partition(ctx(10, { availablePartitions: [2, 5, 7] }))
      expect([2, 5, 7]).toContain(chosen)
      p.onBatchClosed!('t', chosen)
    }
  })

  it('leaves a partition that became unavailable or out of range', () => {
    const p = sticky({ random: seeded(5) })
    const first = p.partition(ctx(8))
    const others = [0, 1, 2, 3, 4, 5, 6, 7].filter((x) => x !== first)
    expect(p.partition(ctx(8, { availablePartitions: others }))).not.toBe(first)
    expect(p.partition(ctx(1))).toBe(0)
  })

  it('always in range, and a closed batch always moves on when there is somewhere to go', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer(), fc.array(fc.boolean(), { maxLength: 200 }), (n, seed, closes) => {
        const p = sticky({ random: seeded(seed) })
        let current = p.partition(ctx(n))
        for (const close of closes) {
          if (close) p.onBatchClosed!('t', current)
          const next = p.partition(ctx(n))
          expect(next).toBeGreaterThanOrEqual(0)
          expect(next).toBeLessThan(n)
          if (close && n > 1) expect(next).not.toBe(current)
          if (!close) expect(next).toBe(current)
          current = next
        }
      }),
    )
  })

  it('spreads batches uniformly over partitions over many batches', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer(), (n, seed) => {
        const p = sticky({ batchSize: 16_384, random: seeded(seed) })
        const bytes = new Array<number>(n).fill(0)
        const batches = 300 * n
        // Batches fill by bytes (KIP-794), so every partition should get about the same bytes.
        let switches = 0
        let last = -1
        while (switches < batches) {
          const chosen = p.partition(ctx(n, { recordSize: 1000 }))
          bytes[chosen]! += 1000
          if (chosen !== last) switches++
          last = chosen
        }
        const mean = bytes.reduce((a, b) => a + b, 0) / n
        for (const b of bytes) {
          expect(b).toBeGreaterThan(mean * 0.7)
          expect(b).toBeLessThan(mean * 1.3)
        }
      }),
      { numRuns: 30 },
    )
  })
})
