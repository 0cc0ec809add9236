import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { KafkatuneError } from '../../src/errors.js'
import { createPartitioner, partitionForKey, partitioners } from '../../src/partitioners/index.js'
import type { PartitionerContext } from '../../src/partitioners/index.js'

const ctx = <K = unknown, V = unknown>(extra: Partial<PartitionerContext<K, V>> & { partitionCount: number }): PartitionerContext<K, V> =>
  ({ topic: 'orders', key: null, keyBytes: null, value: 'v', ...extra }) as PartitionerContext<K, V>

function catchError(fn: () => unknown): KafkatuneError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(KafkatuneError)
    return err as KafkatuneError
  }
  throw new Error('expected a throw')
}

describe('createPartitioner', () => {
  it('explicit partition wins over every strategy', () => {
    for (const name of ['default', 'murmur2', 'sticky', 'round-robin'] as const) {
      const p = createPartitioner(name)
      expect(p.partition(ctx({ partitionCount: 6, partition: 4, keyBytes: Buffer.from('k') }))).toBe(4)
    }
    const custom = createPartitioner(() => 1)
    expect(custom.partition(ctx({ partitionCount: 6, partition: 3 }))).toBe(3)
  })

  it('rejects an explicit partition outside [0, count) with INVALID_PARTITION', () => {
    const p = createPartitioner('default')
    for (const bad of [-1, 6, 7, 1.5, Number.NaN]) {
      const err = catchError(() => p.partition(ctx({ partitionCount: 6, partition: bad })))
      expect(err.code).toBe('INVALID_PARTITION')
      expect(err.retriable).toBe(false)
      expect(err.message).toContain('"orders"')
      expect(err.message).toContain('[0, 6)')
    }
  })

  it('rejects a custom function returning an invalid partition, and wraps its throws', () => {
    const bad = createPartitioner(({ partitionCount }) => partitionCount)
    expect(catchError(() => bad.partition(ctx({ partitionCount: 3 }))).code).toBe('INVALID_PARTITION')
    const throwing = createPartitioner(function boom(): number {
      throw new Error('nope')
    })
    const err = catchError(() => throwing.partition(ctx({ partitionCount: 3 })))
    expect(err.code).toBe('INVALID_PARTITION')
    expect(err.message).toContain('boom')
    expect((err.cause as Error).message).toBe('nope')
  })

  it('hands custom functions the user-facing key and value', () => {
    const p = createPartitioner<{ id: number }, string>(({ key, value, partitionCount, topic }) => {
      expect(topic).toBe('orders')
      expect(value).toBe('v')
      return (key?.id ?? 0) % partitionCount
    })
    expect(p.partition(ctx({ partitionCount: 4, key: { id: 7 }, keyBytes: Buffer.from('x') }))).toBe(3)
    expect(p.name).toBe('custom')
  })

  it('rejects a topic without known partitions', () => {
    expect(catchError(() => createPartitioner('default').partition(ctx({ partitionCount: 0 }))).code).toBe('INVALID_PARTITION')
  })

  it('rejects unknown names', () => {
    expect(catchError(() => createPartitioner('bogus' as never)).code).toBe('CONFIG_INVALID')
  })

  it('default: keyed by murmur2 of the key bytes, unkeyed sticky until the batch closes', () => {
    const p = createPartitioner('default')
    const key = Buffer.from('user-42')
    expect(p.partition(ctx({ partitionCount: 12, keyBytes: key, key: 'user-42' }))).toBe(partitionForKey(key, 12))
    const first = p.partition(ctx({ partitionCount: 12 }))
    expect(p.partition(ctx({ partitionCount: 12 }))).toBe(first)
    p.onBatchClosed!('orders', first)
    expect(p.partition(ctx({ partitionCount: 12 }))).not.toBe(first)
  })

  it('round-robin cycles every record over the partitions, keys ignored', () => {
    const p = createPartitioner('round-robin')
    const seen = Array.from({ length: 8 }, (_, i) => p.partition(ctx({ partitionCount: 4, keyBytes: Buffer.from(`k${i % 2}`) })))
    expect(seen).toEqual([0, 1, 2, 3, 0, 1, 2, 3])
    const q = partitioners.roundRobin()
    expect([0, 1, 2].map(() => q.partition(ctx({ partitionCount: 9, availablePartitions: [1, 8] })))).toEqual([1, 8, 1])
  })

  it('murmur2 spreads unkeyed records round-robin', () => {
    const p = createPartitioner('murmur2')
    expect([0, 1, 2, 3].map(() => p.partition(ctx({ partitionCount: 3 })))).toEqual([0, 1, 2, 0])
  })

  it('every strategy returns an in-range partition for any record (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('default' as const, 'murmur2' as const, 'sticky' as const, 'round-robin' as const),
        fc.array(fc.record({ key: fc.option(fc.uint8Array({ maxLength: 32 })), n: fc.integer({ min: 1, max: 100 }), close: fc.boolean() }), {
          maxLength: 100,
        }),
        (name, records) => {
          const p = createPartitioner(name)
          for (const r of records) {
            const keyBytes = r.key === null ? null : Buffer.from(r.key)
            const chosen = p.partition(ctx({ partitionCount: r.n, keyBytes, key: keyBytes }))
            expect(Number.isInteger(chosen) && chosen >= 0 && chosen < r.n).toBe(true)
            if (keyBytes !== null && (name === 'default' || name === 'murmur2')) expect(chosen).toBe(partitionForKey(keyBytes, r.n))
            if (r.close) p.onBatchClosed?.('orders', chosen)
          }
        },
      ),
    )
  })
})
