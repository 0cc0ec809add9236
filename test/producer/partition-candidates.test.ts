/**
 * The producer's per-record partitioning path asks "is this partition still a candidate?" without
 * building the candidate list (src/partitioners/types.ts). It must answer exactly as the list would.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { candidatePartitions, isCandidatePartition } from '../../src/partitioners/types.js'
import type { PartitionerContext } from '../../src/partitioners/types.js'

const ctx = (partitionCount: number, availablePartitions: number[] | undefined): PartitionerContext => ({
  topic: 't',
  key: null,
  keyBytes: null,
  value: 'v',
  partitionCount,
  availablePartitions,
})

describe('isCandidatePartition', () => {
  it('agrees with candidatePartitions for any availability list, in range or not', () => {
    const partition = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(0.5, Number.NaN))
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.option(fc.array(partition, { maxLength: 8 }), { nil: undefined }), partition, (count, avail, p) => {
        const c = ctx(count, avail)
        const list = candidatePartitions(c)
        expect(isCandidatePartition(c, p)).toBe(list === null || list.includes(p))
      }),
      { numRuns: 2000 },
    )
  })

  it('treats every partition as a candidate when no available partition is in range', () => {
    expect(isCandidatePartition(ctx(3, [7, -1]), 2)).toBe(true)
    expect(isCandidatePartition(ctx(3, [1]), 2)).toBe(false)
    expect(isCandidatePartition(ctx(3, []), 2)).toBe(true)
  })
})
