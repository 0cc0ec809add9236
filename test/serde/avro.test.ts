import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import avsc from 'avsc'
import { serializers } from '../../src/serde/index.js'
import type { SerdeContext } from '../../src/serde/index.js'

const ctx: SerdeContext = { topic: 'orders', part: 'value' }

interface Order {
  id: number
  customer: string
  amount: number
  note: string | null
  tags: string[]
}

const orderSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
} as const

describe('serializers.avro', () => {
  const serde = serializers.avro<Order>(orderSchema as unknown as avsc.Schema)

  it('round-trips records, schemaless (no header bytes)', async () => {
    const order: Order = { id: 7, customer: 'ann', amount: 12.5, note: null, tags: ['a', 'b'] }
    const buf = await serde.serialize(order, ctx)
    expect(buf[0]).toBe(14) // zigzag varint of 7: the first field, no magic byte or schema id
    const back = await serde.deserialize(buf, ctx)
    expect({ ...back }).toEqual(order)
    expect(serde.name).toBe('avro')
  })

  it('property: any valid record round-trips', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          id: fc.integer(),
          customer: fc.string(),
          amount: fc.double({ noNaN: true }),
          note: fc.option(fc.string()),
          tags: fc.array(fc.string(), { maxLength: 5 }),
        }),
        async (order) => {
          const back = await serde.deserialize(await serde.serialize(order, ctx), ctx)
          expect({ ...back }).toEqual(order)
        },
      ),
    )
  })

  it('rejects an invalid value naming each bad field and what arrived', () => {
    const bad = { id: 'seven', customer: 'ann', amount: 1, note: 5, tags: [] } as unknown as Order
    expect(() => serde.serialize(bad, ctx)).toThrow(/does not match Avro schema shop\.Order: id: expected long, got string "seven"; note: .*got number 5/)
    expect(() => serde.serialize({ id: 1 } as unknown as Order, ctx)).toThrow(/customer: expected string, got undefined/)
  })

  it('accepts a JSON schema string and an avsc Type', async () => {
    const fromString = serializers.avro<string>('"string"')
    expect(await fromString.deserialize(await fromString.serialize('hé', ctx), ctx)).toBe('hé')
    const type = avsc.Type.forSchema({ type: 'array', items: 'int' })
    const fromType = serializers.avro<number[]>(type)
    expect(await fromType.deserialize(await fromType.serialize([1, 2, 3], ctx), ctx)).toEqual([1, 2, 3])
  })

  it('fails to decode bytes that are not this schema', () => {
    expect(() => serde.deserialize(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), ctx)).toThrow()
  })
})
