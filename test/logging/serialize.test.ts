import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { plainFields, splitArgs } from '../../src/logging/serialize.js'

describe('plainFields', () => {
  it('any value, cycles and bigints included, becomes something JSON.stringify takes and that survives a round trip', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true }), (value) => {
        const holder: Record<string, unknown> = { value }
        holder.self = holder
        const plain = plainFields(holder)
        const json = JSON.stringify(plain)
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(plain)))
        expect((plain as Record<string, unknown>).self).toBe('[Circular]')
      }),
    )
  })

  it('prints plain JSON data exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.stringify(plainFields(value))).toBe(JSON.stringify(value))
      }),
    )
  })

  it("keeps a '__proto__' field as a field", () => {
    const parsed = JSON.parse('{"__proto__":{"x":1},"a":2}') as unknown
    expect(JSON.stringify(plainFields(parsed))).toBe('{"__proto__":{"x":1},"a":2}')
  })

  it('splitArgs reads (fields, message) and (message) as pino does', () => {
    expect(splitArgs({ a: 1 }, 'm')).toEqual({ fields: { a: 1 }, message: 'm' })
    expect(splitArgs('only', undefined)).toEqual({ fields: {}, message: 'only' })
    expect(splitArgs({ a: 1 }, undefined)).toEqual({ fields: { a: 1 }, message: '' })
  })
})

describe('plainFields with an invalid date', () => {
  it('writes it as "Invalid Date" instead of throwing', () => {
    expect(JSON.parse(JSON.stringify(plainFields({ at: new Date(Number.NaN) })))).toEqual({ at: 'Invalid Date' })
  })
})
