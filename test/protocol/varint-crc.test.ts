import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32c, crc32cImplementation, crc32cJs } from '../../src/protocol/crc32c.js'
import { readVarInt, readVarLong, sizeOfVarInt, sizeOfVarLong, writeVarInt, writeVarLong } from '../../src/protocol/varint.js'

describe('varints', () => {
  it('round-trip every 32-bit integer shape and report their size', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
        const buf = Buffer.alloc(5)
        const end = writeVarInt(buf, 0, v)
        expect(end).toBe(sizeOfVarInt(v))
        const c = { buf, pos: 0 }
        expect(readVarInt(c)).toBe(v)
        expect(c.pos).toBe(end)
      }),
    )
  })

  it('round-trip safe-integer varlongs (timestamp deltas)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (v) => {
        const buf = Buffer.alloc(10)
        const end = writeVarLong(buf, 0, v)
        expect(end).toBe(sizeOfVarLong(v))
        expect(readVarLong({ buf, pos: 0 })).toBe(v)
      }),
    )
  })

  it('writes the bytes the Kafka spec gives (zigzag)', () => {
    const enc = (v: number): number[] => {
      const b = Buffer.alloc(5)
      return [...b.subarray(0, writeVarInt(b, 0, v))]
    }
    expect(enc(0)).toEqual([0])
    expect(enc(-1)).toEqual([1])
    expect(enc(1)).toEqual([2])
    expect(enc(63)).toEqual([126])
    expect(enc(64)).toEqual([0x80, 0x01])
    expect(enc(-0x80000000)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f])
  })

  it('rejects truncated varints', () => {
    expect(() => readVarInt({ buf: Buffer.from([0x80]), pos: 0 })).toThrow(/past the end/)
    expect(() => readVarLong({ buf: Buffer.from([0xff, 0xff]), pos: 0 })).toThrow(/past the end/)
  })
})

describe('crc32c', () => {
  it('gives the check value of the Castagnoli polynomial', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32cJs(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32cJs(Buffer.alloc(0))).toBe(0)
  })

  it('uses the native implementation here (prebuilt inside npm)', () => {
    expect(crc32cImplementation).toBe('native')
  })

  it('native and JS fallback agree on random input of any length and alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), (bytes, skip) => {
        const buf = Buffer.from(bytes).subarray(Math.min(skip, bytes.length))
        expect(crc32cJs(buf)).toBe(crc32c(buf))
      }),
      { numRuns: 300 },
    )
  })
})
