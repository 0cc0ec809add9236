import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Partitioners } from 'kafkajs'
import { murmur2, murmur2Hash, partitionForKey, toPositive } from '../../src/partitioners/murmur2.js'

interface Vectors {
  partitionCounts: number[]
  vectors: { keyHex: string; murmur2: number; partitions: number[] }[]
}

// Computed by the real Java client (test/partitioners/java/Murmur2Vectors.java, kafka-clients 4.1.2).
const fixture = JSON.parse(readFileSync(new URL('./murmur2-vectors.json', import.meta.url), 'utf8')) as Vectors

describe('murmur2 against the Java client', () => {
  it('has vectors for every tail length', () => {
    expect(fixture.vectors.length).toBeGreaterThan(60)
    const tails = new Set(fixture.vectors.map((v) => (v.keyHex.length / 2) % 4))
    expect([...tails].sort()).toEqual([0, 1, 2, 3])
  })

  it.each(fixture.vectors.map((v) => [v.keyHex.slice(0, 24) || '(empty)', v] as const))('hash and partitions of %s', (_label, v) => {
    const key = Buffer.from(v.keyHex, 'hex')
    expect(murmur2Hash(key)).toBe(v.murmur2)
    fixture.partitionCounts.forEach((n, i) => {
      expect(partitionForKey(key, n)).toBe(v.partitions[i])
    })
  })

  it('the murmur2 partitioner routes keyed records like Java', () => {
    const p = murmur2()
    for (const v of fixture.vectors) {
      const key = Buffer.from(v.keyHex, 'hex')
      expect(p.partition({ topic: 't', key, keyBytes: key, value: null, partitionCount: 12 })).toBe(v.partitions[5])
    }
  })
})

describe('murmur2 properties', () => {
  it('toPositive clears the sign bit only', () => {
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(-1)).toBe(2147483647)
    expect(toPositive(5)).toBe(5)
  })

  it('agrees with kafkajs DefaultPartitioner for keyed records (both claim Java compatibility)', () => {
    const kafkajsPartitioner = Partitioners.DefaultPartitioner()
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.integer({ min: 1, max: 500 }), (bytes, n) => {
        const key = Buffer.from(bytes)
        if (key.length === 0) return // kafkajs treats an empty key as no key
        const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0 }))
        const expected = kafkajsPartitioner({ topic: 't', partitionMetadata, message: { key, value: null } } as never)
        expect(partitionForKey(key, n)).toBe(expected)
      }),
    )
  })

  it('is deterministic and in range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 10_000 }), (bytes, n) => {
        const p = partitionForKey(bytes, n)
        expect(p).toBeGreaterThanOrEqual(0)
        expect(p).toBeLessThan(n)
        expect(partitionForKey(Buffer.from(bytes), n)).toBe(p)
        expect(Number.isInteger(murmur2Hash(bytes))).toBe(true)
      }),
    )
  })
})
