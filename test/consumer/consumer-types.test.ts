import { describe, expectTypeOf, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer, RunHandlers } from '../../src/consumer/index.js'
import type { ConsumedMessage } from '../../src/messages.js'
import { serializers } from '../../src/serde/index.js'

describe('createConsumer types', () => {
  it('infers K and V from the deserializers, string by default', () => {
    const make = () => createConsumer({ brokers: ['127.0.0.1:9092'], groupId: 'g', topics: ['t'], valueDeserializer: serializers.json<{ n: number }>() })
    expectTypeOf<ReturnType<typeof make>>().toEqualTypeOf<Consumer<string, { n: number }>>()
    const plain = () => createConsumer({ brokers: ['127.0.0.1:9092'], groupId: 'g', topics: [/^orders\./] })
    expectTypeOf<ReturnType<typeof plain>>().toEqualTypeOf<Consumer<string, string>>()
  })

  it('hands typed messages to eachMessage and arrays to eachBatch, never both', () => {
    expectTypeOf<Parameters<Extract<RunHandlers<string, Buffer>, { eachMessage: unknown }>['eachMessage']>[0]>().toEqualTypeOf<ConsumedMessage<string, Buffer>>()
    expectTypeOf<Parameters<Extract<RunHandlers<string, number>, { eachBatch: unknown }>['eachBatch']>[0]>().toEqualTypeOf<ConsumedMessage<string, number>[]>()
    // @ts-expect-error exactly one of eachMessage or eachBatch
    const both: RunHandlers<string, string> = { eachMessage: async () => {}, eachBatch: async () => {} }
    void both
  })
})
