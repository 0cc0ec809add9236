import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import kafkajs from 'kafkajs'
import { codecAvailable, getCodec, registerCodecs } from '../../src/codecs/index.js'
import { isXerialFramed, xerialBlocks, xerialFrame } from '../../src/codecs/snappy.js'
import { LZ4_SYNC_LIMIT, lz4Frame, lz4FrameWriter } from '../../src/codecs/lz4.js'
import type { CodecName } from '../../src/codecs/index.js'

const require = createRequire(import.meta.url)
const snappyPkg = require('snappy') as { compressSync(b: Buffer): Buffer }

/** Compressible but not trivial: JSON-ish lines with random ids. */
function sample(size: number): Buffer {
  const lines: string[] = []
  let len = 0
  for (let i = 0; len < size; i++) {
    const line = JSON.stringify({ id: i, user: `user-${i % 97}`, tag: randomBytes(4).toString('hex') })
    lines.push(line)
    len += line.length + 1
  }
  return Buffer.from(lines.join('\n')).subarray(0, size)
}

const NAMES: CodecName[] = ['gzip', 'snappy', 'lz4', 'zstd']

describe('codecs', () => {
  it('are all available on this platform', () => {
    for (const name of [...NAMES, 'none']) expect(codecAvailable(name)).toBe(true)
    expect(codecAvailable('brotli')).toBe(false)
  })

  for (const name of NAMES) {
    it(`${name}: round-trips empty, small, 16 KiB and 1 MiB (async path) buffers, and actually compresses`, async () => {
      const codec = getCodec(name)
      for (const input of [Buffer.alloc(0), Buffer.from('x'), sample(16 * 1024), sample(1024 * 1024)]) {
        const compressed = await codec.compress({ buffer: input })
        expect(Buffer.isBuffer(compressed)).toBe(true)
        if (input.length >= 16 * 1024) expect(compressed.length).toBeLessThan(input.length * 0.8)
        const back = await codec.decompress(compressed)
        expect(back.equals(input)).toBe(true)
      }
    })

    it(`${name}: round-trips arbitrary bytes (property)`, async () => {
      const codec = getCodec(name)
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
          const input = Buffer.from(bytes)
          const back = await codec.decompress(await codec.compress({ buffer: input }))
          expect(back.equals(input)).toBe(true)
        }),
        { numRuns: 50 },
      )
    })

    it(`${name}: rejects garbage instead of returning wrong bytes`, async () => {
      const codec = getCodec(name)
      await expect(codec.decompress(Buffer.from('definitely not compressed data at all, no magic here'))).rejects.toThrow()
    })
  }

  it('gzip output is real gzip', async () => {
    const input = sample(5000)
    expect(gunzipSync(await getCodec('gzip').compress({ buffer: input })).equals(input)).toBe(true)
  })

  it('lz4 writes the standard frame Kafka reads: magic, version 01, independent blocks, 64 KiB max block', async () => {
    const out = await getCodec('lz4').compress({ buffer: sample(1000) })
    expect(out.readUInt32LE(0)).toBe(0x184d2204)
    const flg = out[4]!
    expect(flg >> 6).toBe(1)
    expect(flg & 0x20).toBe(0x20)
    expect(out[5]! & 0x70).toBe(0x40)
  })

  it('zstd writes a zstd frame', async () => {
    const out = await getCodec('zstd').compress({ buffer: sample(1000) })
    expect(out.readUInt32LE(0)).toBe(0xfd2fb528)
  })
})

describe('snappy xerial framing (what Java producers write)', () => {
  it('reads a multi-chunk xerial stream', async () => {
    const parts = [sample(32 * 1024), sample(32 * 1024), sample(100)]
    const framed = xerialFrame(parts.map((p) => snappyPkg.compressSync(p)))
    expect(isXerialFramed(framed)).toBe(true)
    expect(xerialBlocks(framed)).toHaveLength(3)
    const back = await getCodec('snappy').decompress(framed)
    expect(back.equals(Buffer.concat(parts))).toBe(true)
  })

  it('reads a xerial stream with one big chunk (async path) and with no chunks', async () => {
    const big = sample(200 * 1024)
    expect((await getCodec('snappy').decompress(xerialFrame([snappyPkg.compressSync(big)]))).equals(big)).toBe(true)
    expect((await getCodec('snappy').decompress(xerialFrame([]))).length).toBe(0)
  })

  it('writes raw snappy (no xerial header), which every client reads', async () => {
    const out = await getCodec('snappy').compress({ buffer: sample(1000) })
    expect(isXerialFramed(out)).toBe(false)
  })

  it('rejects a truncated xerial stream with a clear message', async () => {
    const framed = xerialFrame([snappyPkg.compressSync(sample(1000))])
    await expect(getCodec('snappy').decompress(framed.subarray(0, framed.length - 10))).rejects.toThrow(/runs past the end/)
    expect(() => xerialBlocks(Buffer.concat([framed, Buffer.from([0, 0])]))).toThrow(/truncated/)
  })

  it('property: any split into chunks decodes to the concatenation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 6 }), async (chunks) => {
        const bufs = chunks.map((c) => Buffer.from(c))
        const framed = xerialFrame(bufs.map((b) => snappyPkg.compressSync(b)))
        expect((await getCodec('snappy').decompress(framed)).equals(Buffer.concat(bufs))).toBe(true)
      }),
      { numRuns: 50 },
    )
  })
})

describe('registerCodecs', () => {
  it('registers snappy, lz4 and zstd into kafkajs CompressionCodecs, idempotently', async () => {
    const { CompressionCodecs, CompressionTypes } = kafkajs
    const registry = CompressionCodecs as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>
    expect(registerCodecs()).toEqual(['gzip', 'snappy', 'lz4', 'zstd'])
    expect(registerCodecs()).toEqual(['gzip', 'snappy', 'lz4', 'zstd'])
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = registry[type]!()
      const input = sample(3000)
      expect((await codec.decompress(await codec.compress({ buffer: input }))).equals(input)).toBe(true)
    }
  })
})

describe('lz4 frames built around block compression', () => {
  const lz4napi = require('lz4-napi') as { compressSync(b: Buffer): Buffer; compressFrameSync(b: Buffer): Buffer; decompressFrameSync(b: Buffer): Buffer }
  const block = (b: Buffer): Buffer => lz4napi.compressSync(b)

  it('has the same header as lz4_flex frames with 64 KiB blocks (so the header checksum is right)', () => {
    expect(lz4Frame(sample(1000), block).subarray(0, 7)).toEqual(lz4napi.compressFrameSync(sample(1000)).subarray(0, 7))
  })

  it('round-trips through the frame decoder: empty, compressible, incompressible, several blocks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), fc.boolean(), (size, random) => {
        const input = random ? randomBytes(size) : sample(size)
        const frame = lz4Frame(input, block)
        expect(lz4napi.decompressFrameSync(frame).equals(input)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  it('a frame placed later (into a larger buffer) is the same bytes, whatever happens to the input after the call', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), fc.boolean(), fc.integer({ min: 0, max: 100 }), (size, random, offset) => {
        const input = random ? randomBytes(size) : sample(size)
        const original = Buffer.from(input)
        const want = lz4Frame(input, block)
        const placed = lz4FrameWriter(input, block)
        input.fill(0x5a)
        expect(placed.size).toBe(want.length)
        const out = Buffer.alloc(offset + placed.size + 3, 0xee)
        placed.writeInto(out, offset)
        expect(out.subarray(offset, offset + placed.size).equals(want)).toBe(true)
        expect(lz4napi.decompressFrameSync(out.subarray(offset, offset + placed.size)).equals(original)).toBe(true)
        expect(out.subarray(0, offset).every((b) => b === 0xee)).toBe(true)
        expect(out.subarray(offset + placed.size).every((b) => b === 0xee)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  it('stores a block that does not shrink uncompressed (high bit of its size set)', () => {
    const input = randomBytes(1000)
    const frame = lz4Frame(input, block)
    expect(frame.readUInt32LE(7)).toBe((0x80000000 | 1000) >>> 0)
    expect(frame.subarray(11, 1011).equals(input)).toBe(true)
    expect(frame.readUInt32LE(1011)).toBe(0)
  })

  it('the records codec writes such frames up to 1 MiB, synchronously', () => {
    const input = sample(200_000)
    const out = getCodec('lz4').records!.compress(input)
    expect(Buffer.isBuffer(out)).toBe(true)
    expect(lz4napi.decompressFrameSync(out as Buffer).equals(input)).toBe(true)
    expect(LZ4_SYNC_LIMIT).toBeGreaterThanOrEqual(128 * 1024)
  })
})
