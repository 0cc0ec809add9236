import { describe, expect, it } from 'vitest'
import { createCommitStrategy } from '../../src/consumer/commit/index.js'
import { OffsetTracker } from '../../src/consumer/offsets.js'

describe('commit strategies', () => {
  it('per-message asks for a commit after every record', () => {
    const s = createCommitStrategy({ strategy: 'per-message' })
    expect([s.processed('0:t', 0), s.processed('0:t', 1)]).toEqual([true, true])
    expect(s.intervalMs).toBeNull()
  })

  it('batch asks after `size` records of one partition, counting partitions apart', () => {
    const s = createCommitStrategy({ strategy: 'batch', size: 3 })
    expect(s.processed('0:t', 0)).toBe(false)
    expect(s.processed('1:t', 0)).toBe(false)
    expect(s.processed('0:t', 0)).toBe(false)
    expect(s.processed('0:t', 0)).toBe(true)
    s.committed(0)
    expect(s.processed('1:t', 0)).toBe(false)
    expect(s.intervalMs).toBeNull()
  })

  it('interval asks once intervalMs passed since the last commit and runs a timer', () => {
    const s = createCommitStrategy({ strategy: 'interval', intervalMs: 100 })
    expect(s.intervalMs).toBe(100)
    expect(s.processed('0:t', 1000)).toBe(false)
    expect(s.processed('0:t', 1099)).toBe(false)
    expect(s.processed('0:t', 1100)).toBe(true)
    s.committed(1100)
    expect(s.processed('0:t', 1150)).toBe(false)
  })

  it('hybrid asks after size records or intervalMs, whichever first', () => {
    const s = createCommitStrategy({ strategy: 'hybrid', size: 2, intervalMs: 100 })
    expect(s.processed('0:t', 0)).toBe(false)
    expect(s.processed('0:t', 1)).toBe(true)
    s.committed(1)
    expect(s.processed('0:t', 50)).toBe(false)
    expect(s.processed('1:t', 101)).toBe(true)
  })

  it('auto never asks in the loop and commits in the background (default 5000 ms)', () => {
    const s = createCommitStrategy({ strategy: 'auto' })
    expect(s.processed('0:t', 1e9)).toBe(false)
    expect(s.intervalMs).toBe(5000)
    expect(createCommitStrategy({ strategy: 'auto', intervalMs: 200 }).intervalMs).toBe(200)
  })
})

describe('OffsetTracker', () => {
  it('reports offset + 1 of the last finished record, once, until committed', () => {
    const t = new OffsetTracker()
    t.finished('a', 0, '41')
    t.finished('a', 0, '42')
    t.finished('a', 1, '9007199254740993')
    expect(t.pending()).toEqual([
      { topic: 'a', partition: 0, offset: '43' },
      { topic: 'a', partition: 1, offset: '9007199254740994' },
    ])
    t.committed(t.pending())
    expect(t.pending()).toEqual([])
    t.finished('a', 0, '43')
    expect(t.pending()).toEqual([{ topic: 'a', partition: 0, offset: '44' }])
  })

  it('never moves backwards and forgets partitions no longer owned', () => {
    const t = new OffsetTracker()
    t.finished('a', 0, '10')
    t.finished('a', 0, '5')
    expect(t.pending()).toEqual([{ topic: 'a', partition: 0, offset: '11' }])
    t.finished('b', 2, '1')
    t.retain(new Set(['2:b']))
    expect(t.pending()).toEqual([{ topic: 'b', partition: 2, offset: '2' }])
  })

  it.each([
    { strategy: 'batch', size: 3 },
    { strategy: 'hybrid', size: 3, intervalMs: 60_000 },
    { strategy: 'interval', intervalMs: 60_000 },
  ] as const)('$strategy: after a failed commit the next record asks again, until a commit takes the offsets', (config) => {
    const s = createCommitStrategy(config)
    s.processed('0:t', 0)
    s.committed(0)
    expect(s.processed('0:t', 1)).toBe(false)
    s.failed!()
    expect(s.processed('0:t', 2)).toBe(true)
    expect(s.processed('0:t', 3)).toBe(true)
    s.committed(3)
    expect(s.processed('0:t', 4)).toBe(false)
  })
})
