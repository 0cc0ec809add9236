import { describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import { loadedCodecs } from '../../src/codecs/index.js'
import { createConsumer, createProducer } from '../../src/index.js'
import type { KafkaCodec } from '../../src/codecs/index.js'

// Its own module graph (vitest isolates files): no codec package was loaded before these tests.
const { CompressionCodecs, CompressionTypes } = kafkajs
const registry = CompressionCodecs as Record<number, () => KafkaCodec>
const brokers = ['127.0.0.1:1']

async function roundTrips(codec: KafkaCodec): Promise<boolean> {
  const input = Buffer.from('kafkatune '.repeat(200))
  return (await codec.decompress(await codec.compress({ buffer: input }))).equals(input)
}

describe('codec packages load when first needed', () => {
  it('kafkatune clients register snappy, lz4 and zstd without loading a package; kafkajs asking for one loads that one', async () => {
    createConsumer({ brokers, groupId: 'g', topics: ['t'] })
    createProducer({ brokers, preset: 'high-throughput', compression: 'none' })
    expect(loadedCodecs()).toEqual([])
    expect(await roundTrips(registry[CompressionTypes.LZ4]!())).toBe(true)
    expect(loadedCodecs()).toEqual(['lz4'])
    expect(await roundTrips(registry[CompressionTypes.Snappy]!())).toBe(true)
    expect(loadedCodecs().sort()).toEqual(['lz4', 'snappy'])
  })

  it('a producer loads its own codec when it is created', () => {
    expect(loadedCodecs()).not.toContain('zstd')
    createProducer({ brokers, compression: 'zstd' })
    expect(loadedCodecs()).toContain('zstd')
  })

  it("keeps a codec the application registered in kafkajs before a kafkatune client was created", async () => {
    const calls: string[] = []
    const appCodec: KafkaCodec = {
      compress: async (e) => (calls.push('compress'), e.buffer),
      decompress: async (b) => (calls.push('decompress'), b),
    }
    const appFactory = (): KafkaCodec => appCodec
    registry[CompressionTypes.ZSTD] = appFactory
    createConsumer({ brokers, groupId: 'g2', topics: ['t'] })
    expect(registry[CompressionTypes.ZSTD]).toBe(appFactory)
    expect(await roundTrips(registry[CompressionTypes.ZSTD]!())).toBe(true)
    expect(calls).toEqual(['compress', 'decompress'])
  })
})
