import { describe, expectTypeOf, it } from 'vitest'
import type { ProducerOptions, ConsumerOptions, PipelineOptions } from '../../src/config/options.js'
import { resolveProducerConfig } from '../../src/config/index.js'
import { serializers } from '../../src/serde/index.js'

const brokers = ['127.0.0.1:9092']

describe('config types', () => {
  it("'exactly-once' needs a transactionalId at compile time", () => {
    // @ts-expect-error transactionalId is required with the exactly-once preset
    const bad: ProducerOptions = { brokers, preset: 'exactly-once' }
    const good: ProducerOptions = { brokers, preset: 'exactly-once', transactionalId: 'tx' }
    expectTypeOf(good).toMatchTypeOf<ProducerOptions>()
    void bad
  })

  it('a pipeline needs a transactionalIdPrefix at compile time unless its preset has no transactions', () => {
    const base = { brokers, groupId: 'g', from: 'in', to: 'out', transform: () => null }
    // @ts-expect-error the default preset is exactly-once: transactionalIdPrefix is required
    const bad: PipelineOptions = { ...base }
    // @ts-expect-error so it is with the exactly-once preset named
    const bad2: PipelineOptions = { ...base, preset: 'exactly-once' }
    const good: PipelineOptions = { ...base, transactionalIdPrefix: 'copy' }
    const plain: PipelineOptions = { ...base, preset: 'high-throughput' }
    expectTypeOf(good).toMatchTypeOf<PipelineOptions>()
    expectTypeOf(plain).toMatchTypeOf<PipelineOptions>()
    void bad
    void bad2
  })

  it('infers K and V from the serializers', () => {
    const s = resolveProducerConfig({ brokers, keySerializer: serializers.bytes(), valueSerializer: serializers.json<{ id: number }>() })
    expectTypeOf(s.keySerializer.serialize).parameter(0).toEqualTypeOf<Buffer>()
    expectTypeOf(s.valueSerializer.serialize).parameter(0).toEqualTypeOf<{ id: number }>()
  })

  it('rejects bad option values at compile time', () => {
    // @ts-expect-error acks must be 0, 1 or 'all'
    const a: ProducerOptions = { brokers, acks: 2 }
    // @ts-expect-error compression names are fixed
    const c: ProducerOptions = { brokers, compression: 'brotli' }
    // @ts-expect-error commit strategies need their fields
    const h: ConsumerOptions = { brokers, groupId: 'g', topics: ['t'], commit: { strategy: 'hybrid', size: 10 } }
    void a
    void c
    void h
  })
})
