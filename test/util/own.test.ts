import { describe, expect, it } from 'vitest'
import { prepareHeaders } from '../../src/producer/headers.js'
import { plainHeaders } from '../../src/consumer/decode.js'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.js'
import { setOwn } from '../../src/util/own.js'

describe('a header named __proto__', () => {
  it('setOwn adds an own property and leaves the prototype alone', () => {
    const o: Record<string, unknown> = {}
    setOwn(o, '__proto__', 'x')
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype)
    expect(Object.keys(o)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toBe('x')
  })

  it('is written as a header by the producer and read back as one by the consumer', async () => {
    const headers = JSON.parse('{"__proto__": "p", "a": "b"}') as Record<string, string>
    const { wire, view } = prepareHeaders(headers)!
    expect(Object.getPrototypeOf(view)).toBe(Object.prototype)
    expect(Object.keys(view)).toEqual(['__proto__', 'a'])
    const encoded = await encodeRecordBatch([{ key: null, value: Buffer.from('v'), headers: wire }], { defaultTimestamp: 1 })
    expect(encoded.includes(Buffer.from('__proto__'))).toBe(true)
    const plain = plainHeaders(JSON.parse('{"__proto__": "q"}') as Record<string, string>)
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(plain, '__proto__')?.value).toEqual(Buffer.from('q'))
  })
})
