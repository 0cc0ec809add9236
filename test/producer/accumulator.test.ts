import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { BATCH_OVERHEAD_BYTES, RecordAccumulator, estimateRecordSize } from '../../src/producer/accumulator.js'

interface R {
  size: number
  id: number
}

function acc(over: Partial<ConstructorParameters<typeof RecordAccumulator<R>>[0]> = {}) {
  const closed: string[] = []
  const a = new RecordAccumulator<R>({
    batchSize: 1000,
    lingerMs: 10,
    maxDrainBytes: 100_000,
    maxDrainRecords: 1000,
    onBatchClosed: (t, p) => closed.push(`${t}:${p}`),
    ...over,
  })
  return { a, closed }
}

describe('RecordAccumulator', () => {
  it('keeps a batch until linger expires, then drains it', () => {
    const { a } = acc()
    expect(a.append('t', 0, { size: 100, id: 1 }, 1000)).toBe(false)
    expect(a.drain(1005, false)).toEqual([])
    expect(a.nextReadyAt(1005)).toBe(1010)
    const out = a.drain(1010, false)
    expect(out).toHaveLength(1)
    expect(out[0]?.records.map((r) => r.id)).toEqual([1])
    expect(a.size).toBe(0)
  })

  it('marks a batch ready once batchSize bytes are reached and tells the partitioner', () => {
    const { a, closed } = acc()
    let ready = false
    for (let i = 0; i < 10 && !ready; i++) ready = a.append('t', 2, { size: 100, id: i }, 0)
    expect(ready).toBe(true)
    expect(closed).toEqual(['t:2'])
    const out = a.drain(0, false)
    expect(out).toHaveLength(1)
    // 61 bytes of batch overhead + 9 x 100 fit; the 10th record opened the next batch.
    expect(out[0]!.records).toHaveLength(9)
    expect(out[0]!.bytes).toBe(961)
    expect(a.size).toBe(1)
  })

  it('starts a new batch when the next record would not fit', () => {
    const { a, closed } = acc()
    a.append('t', 0, { size: 600, id: 1 }, 0)
    expect(a.append('t', 0, { size: 600, id: 2 }, 0)).toBe(true)
    expect(closed).toEqual(['t:0'])
    // The first (closed) batch is ready now; the second still lingers... but drain merges only ready ones.
    const out = a.drain(0, false)
    expect(out.map((b) => b.records.map((r) => r.id))).toEqual([[1]])
  })

  it('lingerMs 0 makes every batch ready at once; force ignores linger', () => {
    const zero = acc({ lingerMs: 0 }).a
    zero.append('t', 0, { size: 1, id: 1 }, 5)
    expect(zero.drain(5, false)).toHaveLength(1)
    const { a } = acc({ lingerMs: 1_000_000 })
    a.append('t', 0, { size: 1, id: 1 }, 5)
    expect(a.drain(6, false)).toHaveLength(0)
    expect(a.drain(6, true)).toHaveLength(1)
  })

  it('mutes a partition while its batch is in flight and resumes after complete()', () => {
    const { a } = acc({ lingerMs: 0 })
    a.append('t', 0, { size: 1, id: 1 }, 0)
    const [first] = a.drain(0, false)
    a.append('t', 0, { size: 1, id: 2 }, 0)
    expect(a.drain(0, false)).toEqual([])
    a.complete(first!)
    expect(a.drain(0, false)[0]?.records.map((r) => r.id)).toEqual([2])
  })

  it('maxInFlightPerPartition > 1 lets one partition have several units in flight, one per drain pass', () => {
    const { a } = acc({ lingerMs: 0, maxInFlightPerPartition: 2 })
    a.append('t', 0, { size: 1, id: 1 }, 0)
    expect(a.drain(0, false)).toHaveLength(1)
    a.append('t', 0, { size: 1, id: 2 }, 0)
    expect(a.drain(0, false)[0]?.records.map((r) => r.id)).toEqual([2])
    a.append('t', 0, { size: 1, id: 3 }, 0)
    expect(a.drain(0, false)).toEqual([])
  })

  it('requeue puts a failed batch back ahead of newer records, honouring back-off', () => {
    const { a } = acc({ lingerMs: 0 })
    a.append('t', 0, { size: 1, id: 1 }, 0)
    const [first] = a.drain(0, false)
    a.append('t', 0, { size: 1, id: 2 }, 0)
    a.requeue(first!, 100)
    expect(a.drain(50, false)).toEqual([])
    expect(a.nextReadyAt(50)).toBe(100)
    const [again] = a.drain(100, false)
    // Never sent (e.g. no free request slot): it goes out first, merged with the next ready batch (order kept).
    expect(again?.records.map((r) => r.id)).toEqual([1, 2])
  })

  it('a unit that went out is resent exactly as it was, never merged with newer records', () => {
    const { a } = acc({ lingerMs: 0 })
    a.append('t', 0, { size: 1, id: 1 }, 0)
    const [first] = a.drain(0, false)
    first!.sent = true
    a.append('t', 0, { size: 1, id: 2 }, 0)
    a.append('t', 0, { size: 1, id: 3 }, 0)
    a.requeue(first!, 0)
    const [again] = a.drain(1, false)
    expect(again).toBe(first)
    expect(again?.records.map((r) => r.id)).toEqual([1])
    a.complete(again!)
    expect(a.drain(2, false)[0]?.records.map((r) => r.id)).toEqual([2, 3])
  })

  it('merges consecutive ready batches of a partition within the drain limits', () => {
    const { a } = acc({ batchSize: 100, maxDrainRecords: 5 })
    for (let i = 0; i < 12; i++) a.append('t', 0, { size: 50, id: i }, 0)
    const [unit] = a.drain(0, false)
    // Batches hold 2 records each (50 + overhead ... ) and the unit stops before 5 records.
    expect(unit!.records.length).toBeLessThanOrEqual(5)
    expect(unit!.records.map((r) => r.id)).toEqual(Array.from({ length: unit!.records.length }, (_, i) => i))
  })

  it('expire removes queued batches past their deadline', () => {
    const { a } = acc()
    a.append('t', 0, { size: 1, id: 1 }, 0)
    a.append('t', 1, { size: 1, id: 2 }, 500)
    const expired = a.expire((b) => 1000 - b.createdAt >= 1000)
    expect(expired.map((b) => b.partition)).toEqual([0])
    expect(a.size).toBe(1)
    expect(a.oldestCreatedAt()).toBe(500)
  })

  it('property: every record comes out exactly once, in append order per partition', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ partition: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: 700 }), tick: fc.integer({ min: 0, max: 20 }) }), { maxLength: 300 }),
        fc.integer({ min: 0, max: 30 }),
        (ops, linger) => {
          const { a } = acc({ lingerMs: linger, batchSize: 1000, maxDrainRecords: 7, maxDrainBytes: 3000 })
          const seen = new Map<number, number[]>()
          let now = 0
          let id = 0
          const inFlight: ReturnType<typeof a.drain> = []
          const take = (force: boolean) => {
            for (const b of a.drain(now, force)) inFlight.push(b)
            // Complete half of what is in flight, requeue a few to simulate retries.
            while (inFlight.length > 0) {
              const b = inFlight.shift()!
              if (b.records[0]!.id % 5 === 0 && b.attempts === 0) {
                b.attempts++
                a.requeue(b, now)
                continue
              }
              const list = seen.get(b.partition) ?? []
              for (const r of b.records) list.push(r.id)
              seen.set(b.partition, list)
              expect(b.bytes).toBe(BATCH_OVERHEAD_BYTES + b.records.reduce((s, r) => s + r.size, 0))
              a.complete(b)
            }
          }
          const expected = new Map<number, number[]>()
          for (const op of ops) {
            now += op.tick
            a.append('t', op.partition, { size: op.size, id }, now)
            expected.set(op.partition, [...(expected.get(op.partition) ?? []), id])
            id++
            take(false)
          }
          for (let i = 0; i < 1000 && a.size > 0; i++) take(true)
          expect(a.size).toBe(0)
          expect(seen).toEqual(expected)
        },
      ),
    )
  })
})

describe('estimateRecordSize', () => {
  it('counts key, value, headers and per-record overhead', () => {
    expect(estimateRecordSize(null, Buffer.alloc(100), undefined)).toBe(121)
    expect(estimateRecordSize(Buffer.alloc(3), Buffer.alloc(100), { h: Buffer.alloc(4) })).toBe(121 + 3 + 10 + 1 + 4)
  })

  it('requeues batches with a sequence in sequence order, ahead of batches without one, and can keep the back-off', () => {
    const { a } = acc({ batchSize: 100, maxDrainRecords: 1, maxInFlightPerPartition: 5 })
    for (let i = 0; i < 5; i++) a.append('t', 0, { size: 100, id: i }, 0)
    const drained = [0, 1, 2].map(() => a.drain(0, true)[0]!)
    expect(drained.map((b) => b.records[0]!.id)).toEqual([0, 1, 2])
    const position = new Map(drained.map((b, i) => [b, i * 10]))
    const positionOf = (b: (typeof drained)[number]) => position.get(b) ?? null
    // Failures come back in any order: 2, then 0, then 1.
    a.requeue(drained[2]!, 50, positionOf)
    a.requeue(drained[0]!, 80, positionOf)
    a.requeue(drained[1]!, null, positionOf)
    expect(a.nextReadyAt(0)).toBe(80)
    const order: number[] = []
    for (let t = 80; a.size > 0; t++) for (const b of a.drain(t, true)) order.push(b.records[0]!.id)
    expect(order).toEqual([0, 1, 2, 3, 4])
  })

  it('skips partitions the caller holds back, in drain and in nextReadyAt', () => {
    const { a } = acc({ lingerMs: 0 })
    a.append('t', 0, { size: 10, id: 1 }, 0)
    a.append('t', 1, { size: 10, id: 2 }, 0)
    const only1 = (_t: string, p: number) => p === 1
    expect(a.nextReadyAt(5, () => false)).toBeNull()
    expect(a.drain(5, false, only1).map((b) => b.partition)).toEqual([1])
    expect(a.nextReadyAt(5, only1)).toBeNull()
    expect(a.nextReadyAt(5)).toBe(0)
  })
})
