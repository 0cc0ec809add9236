import { describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import { createConsumer } from '../../src/index.js'

// Runs in its own module graph (vitest isolates files): nothing registered codecs before this test.
describe('codec registration', () => {
  it('creating a consumer (no producer in the process) lets kafkajs decompress snappy, lz4 and zstd', async () => {
    const { CompressionCodecs, CompressionTypes } = kafkajs
    const registry = CompressionCodecs as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>
    expect(() => registry[CompressionTypes.Snappy]!()).toThrow(/not implemented/i)
    createConsumer({ brokers: ['127.0.0.1:1'], groupId: 'g', topics: ['t'] })
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = registry[type]!()
      const input = Buffer.from('abc'.repeat(100))
      expect((await codec.decompress(await codec.compress({ buffer: input }))).equals(input)).toBe(true)
    }
  })
})
