import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { StagedRecord } from '../../src/pipeline/producer-pool.js'
import { StagedOutputs } from '../../src/pipeline/staged.js'
import { ChunkCommits } from '../../src/pipeline/chunk-commits.js'

const rec = (v: string): StagedRecord<string, string> => ({ record: { topic: 'out', value: v }, keyBytes: null, valueBytes: Buffer.from(v) })
const values = (rs: StagedRecord<string, string>[]) => rs.map((r) => r.record.value)

describe('StagedOutputs', () => {
  it('commits the outputs below the offset, keeps the rest, counts inputs with no output', () => {
    const s = new StagedOutputs<string, string>()
    s.stage('in', 0, '10', [rec('a'), rec('b')])
    s.stage('in', 0, '11', [])
    s.stage('in', 0, '12', [rec('c')])
    s.stage('in', 1, '5', [rec('x')])
    expect(s.upTo('in', 0, '12')).toEqual({ records: [rec('a'), rec('b')], inputs: 2, inputHeaders: [] })
    expect(s.first('in', 0)).toBe('10')
    s.committed('in', 0, '12')
    expect(s.first('in', 0)).toBe('12')
    expect(values(s.upTo('in', 0, '100').records)).toEqual(['c'])
    expect(s.partitions().sort((a, b) => a.partition - b.partition)).toEqual([
      { topic: 'in', partition: 0, first: '12' },
      { topic: 'in', partition: 1, first: '5' },
    ])
    s.forget('in', 1)
    expect(s.first('in', 1)).toBeUndefined()
  })

  it('a transform of offset o voids what was staged at o or later (retries, records read again)', () => {
    const s = new StagedOutputs<string, string>()
    for (const o of [1, 2, 3]) s.stage('t', 0, String(o), [rec(`first-${o}`)])
    s.stage('t', 0, '2', [rec('again-2')])
    expect(values(s.upTo('t', 0, '10').records)).toEqual(['first-1', 'again-2'])
  })

  it('property: after any sequence of transforms in partition order with rewinds, upTo(next) holds the last outputs of each offset below next, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 31 }), (starts, next) => {
        const s = new StagedOutputs<string, string>()
        const model = new Map<number, string>()
        let round = 0
        // Each start is a rewind: records from there on are transformed again, in order, up to 30.
        for (const start of starts) {
          round++
          for (const [o] of [...model]) if (o >= start) model.delete(o)
          for (let o = start; o < Math.min(start + 5, 31); o++) {
            s.stage('t', 0, String(o), [rec(`${round}-${o}`)])
            model.set(o, `${round}-${o}`)
          }
        }
        const expected = [...model].filter(([o]) => o < next).sort((a, b) => a[0] - b[0]).map(([, v]) => v)
        expect(values(s.upTo('t', 0, String(next)).records)).toEqual(expected)
      }),
    )
  })
})

describe('ChunkCommits', () => {
  it('asks for a commit at the end of every chunk of a batch and at its end', () => {
    const c = new ChunkCommits(3)
    c.batch('k', 7)
    const answers = Array.from({ length: 7 }, () => c.processed('k', 0))
    expect(answers).toEqual([false, false, true, false, false, true, true])
    expect(c.name).toBe('per-message')
    expect(c.intervalMs).toBeNull()
  })

  it('counts batch handler calls of several records, and each partition separately', () => {
    const c = new ChunkCommits(4)
    c.batch('a', 10)
    c.batch('b', 2)
    expect(c.processed('a', 0, 4)).toBe(true)
    expect(c.processed('b', 0)).toBe(false)
    expect(c.processed('a', 0, 3)).toBe(false)
    expect(c.processed('b', 0)).toBe(true)
    expect(c.processed('a', 0, 3)).toBe(true)
    // A partition the strategy was not told about commits at once rather than never.
    expect(c.processed('unknown', 0)).toBe(true)
  })
})
