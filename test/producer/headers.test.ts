import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { estimateRecordSize } from '../../src/producer/accumulator.js'
import { estimateHeadersSize, prepareHeaders } from '../../src/producer/headers.js'
import type { ProducerHeaders } from '../../src/producer/types.js'
import { decodeRecordBatch, encodeRecordBatch } from '../../src/protocol/index.js'

const roundTrip = async (headers: ProducerHeaders) => {
  const { wire } = prepareHeaders(headers)!
  const batch = await encodeRecordBatch([{ key: null, value: Buffer.from('v'), headers: wire }], { defaultTimestamp: 1 })
  const decoded = await decodeRecordBatch(batch)
  return decoded.records[0]!.headers.map((h) => [h.key, h.value?.toString()])
}

describe('producer headers', () => {
  it('refuses a value that is not a Buffer, a string or null, naming the header', () => {
    for (const bad of [{ n: 1 }, { n: true }, { n: { x: 1 } }, { n: ['ok', 2] }, { n: [['nested']] }]) {
      expect(() => prepareHeaders(bad as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^send\(\): header 'n' must be a Buffer, a string or null/) }))
    }
    expect(prepareHeaders({ n: null } as never)!.wire).toEqual({ n: null })
  })

  it('keeps the object form when no name repeats', () => {
    const p = prepareHeaders({ a: 'x', b: Buffer.from('y') })!
    expect(Array.isArray(p.wire)).toBe(false)
    expect(p.wire).toEqual({ a: Buffer.from('x'), b: Buffer.from('y') })
    expect(p.view).toEqual(p.wire)
  })

  it('writes an array value once per element, in order, between the other names', async () => {
    const headers = { first: '1', trace: ['t1', Buffer.from('t2'), 't3'], last: 'z' }
    const p = prepareHeaders(headers)!
    expect(Array.isArray(p.wire)).toBe(true)
    // Serializers see one value per name: the last, as the Java client's lastHeader().
    expect(p.view.trace?.toString()).toBe('t3')
    expect(await roundTrip(headers)).toEqual([
      ['first', '1'],
      ['trace', 't1'],
      ['trace', 't2'],
      ['trace', 't3'],
      ['last', 'z'],
    ])
  })

  it('an empty array writes no header of that name', async () => {
    expect(await roundTrip({ a: [], b: 'x' })).toEqual([['b', 'x']])
  })

  it('the size estimate bounds the encoded record, with or without repeated names', async () => {
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)))
    const headersArb = fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(value, fc.array(value, { maxLength: 4 })), { maxKeys: 5 })
    await fc.assert(
      fc.asyncProperty(headersArb, fc.uint8Array({ maxLength: 100 }), async (headers, v) => {
        const { wire } = prepareHeaders(headers)!
        const record = { key: null, value: Buffer.from(v), headers: wire }
        const encoded = await encodeRecordBatch([record], { defaultTimestamp: 1 })
        expect(estimateRecordSize(null, record.value, wire)).toBeGreaterThanOrEqual(encoded.length - 61)
        expect(estimateHeadersSize(wire)).toBeGreaterThanOrEqual(0)
      }),
      { numRuns: 200 },
    )
  })

  it('headers added by `extend` (a trace context) are written in either form; no headers and no extend: none', () => {
    const add = (v: Record<string, Buffer>) => void (v.traceparent = Buffer.from('tp'))
    expect(prepareHeaders({ a: ['1', '2'] }, add)!.wire).toEqual([
      { key: 'a', value: Buffer.from('1') },
      { key: 'a', value: Buffer.from('2') },
      { key: 'traceparent', value: Buffer.from('tp') },
    ])
    expect(prepareHeaders(undefined, add)!.wire).toEqual({ traceparent: Buffer.from('tp') })
    expect(prepareHeaders(undefined)).toBeUndefined()
  })
})
