import { describe, expect, it, vi } from 'vitest'
import kafkajs from 'kafkajs'

// snappy's package "fails to load" here (as on a platform without its prebuilt binary); the others load.
vi.mock('../../src/codecs/load.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/codecs/load.js')>()
  return {
    loadNative: (pkg: string) => (pkg === 'snappy' ? { error: new Error('no prebuilt binary for this platform') } : real.loadNative(pkg)),
  }
})

const { createProducer, createConsumer, KafkatuneError } = await import('../../src/index.js')
const { codecAvailable } = await import('../../src/codecs/index.js')
const brokers = ['127.0.0.1:1']

describe('a codec whose package does not load', () => {
  it('fails createProducer with CONFIG_INVALID naming the package; other codecs and no compression still work', () => {
    let caught: unknown
    try {
      createProducer({ brokers, compression: 'snappy' })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(KafkatuneError)
    expect((caught as InstanceType<typeof KafkatuneError>).code).toBe('CONFIG_INVALID')
    expect((caught as Error).message).toMatch(/compression 'snappy' is unavailable: package snappy did not load \(no prebuilt binary/)
    expect(codecAvailable('snappy')).toBe(false)
    expect(() => createProducer({ brokers, compression: 'lz4' })).not.toThrow()
    expect(() => createProducer({ brokers, compression: 'none' })).not.toThrow()
  })

  it('fails kafkajs asking for it with the same typed error (a consumer meeting a snappy batch)', () => {
    createConsumer({ brokers, groupId: 'g', topics: ['t'] })
    const registry = kafkajs.CompressionCodecs as Record<number, () => unknown>
    expect(() => registry[kafkajs.CompressionTypes.Snappy]!()).toThrow(/compression 'snappy' is unavailable/)
    expect(registry[kafkajs.CompressionTypes.LZ4]!()).toEqual(expect.objectContaining({ compress: expect.any(Function) }))
  })
})
