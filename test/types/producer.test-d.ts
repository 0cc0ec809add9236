import { describe, expectTypeOf, it } from 'vitest'
import { createProducer, serializers } from '../../src/index.js'
import type { Producer, RecordMetadata } from '../../src/index.js'

interface Order {
  id: number
}

describe('createProducer types', () => {
  it('infers K and V from the serializers, string by default', () => {
    const plain = createProducer({ brokers: ['b:9092'] })
    expectTypeOf(plain).toEqualTypeOf<Producer<string, string>>()
    const typed = createProducer({ brokers: ['b:9092'], valueSerializer: serializers.json<Order>() })
    expectTypeOf(typed).toEqualTypeOf<Producer<string, Order>>()
    expectTypeOf(typed.send({ topic: 't', value: { id: 1 } })).toEqualTypeOf<Promise<RecordMetadata>>()
    // @ts-expect-error the value must be an Order
    void typed.send({ topic: 't', value: 'not an order' })
  })

  it('transaction callbacks send the same record type and return their value', () => {
    const p = createProducer({ brokers: ['b:9092'], preset: 'exactly-once', transactionalId: 'tx', valueSerializer: serializers.json<Order>() })
    const r = p.transaction(async (tx) => {
      await tx.send({ topic: 't', value: { id: 2 } })
      return 42
    })
    expectTypeOf(r).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error 'exactly-once' needs a transactionalId
    createProducer({ brokers: ['b:9092'], preset: 'exactly-once' })
  })

  it('on() returns an unsubscribe function with typed payloads', () => {
    const p = createProducer({ brokers: ['b:9092'] })
    const off = p.on('producer.error', (e) => {
      expectTypeOf(e.error.code).toBeString()
      expectTypeOf(e.records).toBeNumber()
    })
    expectTypeOf(off).toEqualTypeOf<() => void>()
  })
})
