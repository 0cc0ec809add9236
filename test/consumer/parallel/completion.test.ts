/** The completion tracker against a model: the committed offset never passes an incomplete record. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CompletionTracker, PartitionCompletion } from '../../../src/consumer/parallel/completion.js'
import { decodeOffsetMap, encodeOffsetMap } from '../../../src/consumer/parallel/offset-map.js'

type Op = { kind: 'handOut' } | { kind: 'gap'; size: number } | { kind: 'complete'; pick: number } | { kind: 'commit' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'handOut' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((size) => ({ kind: 'gap' as const, size })) },
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ kind: 'complete' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'commit' as const }) },
)

describe('PartitionCompletion', () => {
  it('commits the lowest incomplete offset and a map of exactly what completed above it (model-based)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.array(opArb, { maxLength: 400 }), (start, ops) => {
        const tracker = new CompletionTracker(4096)
        const part = new PartitionCompletion('t', 0, start)
        tracker.set(part)
        // The model: every record handed out, and which completed.
        const handed: bigint[] = []
        const done = new Set<bigint>()
        let next = start
        let lastCommitted: bigint | null = null
        for (const op of ops) {
          if (op.kind === 'handOut') {
            if (!part.canHandOut(next)) continue
            part.handOut(next)
            handed.push(next)
            next++
          } else if (op.kind === 'gap') {
            next += BigInt(op.size)
          } else if (op.kind === 'complete') {
            const open = handed.filter((o) => !done.has(o))
            if (open.length === 0) continue
            const o = open[op.pick % open.length]!
            part.complete(o)
            done.add(o)
          } else {
            const [due] = tracker.pending()
            if (due === undefined) continue
            const committed = BigInt(due.offset)
            // Never past an incomplete record, never backwards.
            for (const o of handed) if (!done.has(o)) expect(committed <= o).toBe(true)
            if (lastCommitted !== null) expect(committed >= lastCommitted).toBe(true)
            lastCommitted = committed
            // The map says exactly which handed-out records above it completed.
            const map = decodeOffsetMap(due.metadata ?? null)
            const expected = handed.filter((o) => o > committed && done.has(o))
            expect(map?.completed ?? []).toEqual(expected)
            if (map !== null) expect(map.committed).toBe(committed)
            tracker.committed([due])
          }
          const open = handed.filter((o) => !done.has(o))
          expect(part.pendingCount).toBe(open.length)
          expect(part.committable).toBe(open.length > 0 ? open[0]! : handed.length > 0 ? handed.at(-1)! + 1n : start)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a restored map skips what completed and the committed offset moves past it', () => {
    const before = new PartitionCompletion('t', 0, 10n)
    for (let o = 10n; o < 20n; o++) before.handOut(o)
    for (const o of [11n, 12n, 15n, 19n]) before.complete(o)
    const due = before.due()!
    expect(due.offset).toBe('10')
    const after = PartitionCompletion.restore('t', 0, due.offset, due.metadata ?? null)
    const skipped: bigint[] = []
    for (let o = 10n; o < 20n; o++) {
      if (after.wasCompleted(o)) {
        after.handOut(o, true)
        skipped.push(o)
      } else after.handOut(o)
    }
    expect(skipped).toEqual([11n, 12n, 15n, 19n])
    for (const o of [10n, 13n, 14n, 16n, 17n, 18n]) after.complete(o)
    expect(after.committable).toBe(20n)
    expect(after.due()).toEqual({ topic: 't', partition: 0, offset: '20' })
  })

  it('a map written for another committed offset is ignored', () => {
    const part = PartitionCompletion.restore('t', 0, '12', 'kt1:r:10:AQI')
    expect(part.wasCompleted(11n)).toBe(false)
    expect(part.wasCompleted(13n)).toBe(false)
  })

  it('stops handing out records the map could not describe within the limit', () => {
    const part = new PartitionCompletion('t', 0, 0n, [], 128)
    part.handOut(0n)
    let o = 1n
    while (part.canHandOut(o)) {
      part.handOut(o)
      part.complete(o)
      o++
    }
    expect(Number(o)).toBeGreaterThan(100)
    expect((part.due()!.metadata ?? '').length).toBeLessThanOrEqual(128)
    part.complete(0n)
    expect(part.canHandOut(o)).toBe(true)
  })

  it('a restored map, partly reached: each completed offset once in the next map (a duplicate used to corrupt the run lengths)', () => {
    // Sparse over a long span, so the run-length encoding is the shorter one.
    const part = PartitionCompletion.restore('t', 0, '10', encodeOffsetMap(10n, [11n, 12n, 5000n, 9000n]))
    for (let o = 10n; o <= 14n; o++) part.handOut(o, part.wasCompleted(o))
    part.complete(13n)
    const due = part.due()!
    expect(due.offset).toBe('10')
    expect(due.metadata).toMatch(/^kt1:r:/)
    expect(decodeOffsetMap(due.metadata ?? null)?.completed).toEqual([11n, 12n, 13n, 5000n, 9000n])
  })
})

describe('encodeOffsetMap', () => {
  it('keeps each offset once whatever it is given', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 200 }), (rel) => {
        const offsets = rel.map((r) => 1000n + BigInt(r))
        const map = decodeOffsetMap(encodeOffsetMap(1000n, [...offsets, ...offsets]))
        expect(map?.completed ?? []).toEqual([...new Set(offsets)].sort((a, b) => (a < b ? -1 : 1)))
      }),
    )
  })
})
