import { describe, expectTypeOf, it } from 'vitest'
import { deserializeOrThrow, serializeOrThrow, serializers } from '../../src/serde/index.js'
import type { Serializer } from '../../src/serde/index.js'
import { createPartitioner } from '../../src/partitioners/index.js'
import type { Partitioner } from '../../src/partitioners/index.js'

describe('serializer types', () => {
  it('infer T from the factory', () => {
    expectTypeOf(serializers.json<{ a: number }>()).toEqualTypeOf<Serializer<{ a: number }>>()
    expectTypeOf(serializers.json()).toEqualTypeOf<Serializer<unknown>>()
    expectTypeOf(serializers.string()).toEqualTypeOf<Serializer<string>>()
    expectTypeOf(serializers.bytes()).toEqualTypeOf<Serializer<Buffer>>()
    expectTypeOf(serializers.avro<{ id: number }>({ type: 'record', name: 'R', fields: [] })).toEqualTypeOf<Serializer<{ id: number }>>()
    expectTypeOf(serializers.schemaRegistry<{ id: number }>({ host: 'http://x' })).toEqualTypeOf<Serializer<{ id: number }>>()
  })

  it('check values against T', () => {
    const s = serializers.json<{ a: number }>()
    const ctx = { topic: 't', part: 'value' as const }
    expectTypeOf(serializeOrThrow(s, { a: 1 }, ctx)).toEqualTypeOf<Buffer | Promise<Buffer>>()
    expectTypeOf(deserializeOrThrow(s, Buffer.alloc(0), ctx)).toEqualTypeOf<{ a: number } | Promise<{ a: number }>>()
    // @ts-expect-error a string is not { a: number }
    serializeOrThrow(s, 'nope', ctx)
    // @ts-expect-error the schema registry needs a host
    serializers.schemaRegistry({ subject: 's' })
    // @ts-expect-error part is 'key' | 'value'
    serializeOrThrow(s, { a: 1 }, { topic: 't', part: 'header' })
  })

  it('partitioners take names or typed functions', () => {
    expectTypeOf(createPartitioner('sticky')).toEqualTypeOf<Partitioner<unknown, unknown>>()
    const p = createPartitioner<{ id: number }, string>(({ key, value }) => {
      expectTypeOf(key).toEqualTypeOf<{ id: number } | null>()
      expectTypeOf(value).toEqualTypeOf<string>()
      return 0
    })
    expectTypeOf(p).toEqualTypeOf<Partitioner<{ id: number }, string>>()
    // @ts-expect-error unknown partitioner name
    createPartitioner('random')
  })
})
