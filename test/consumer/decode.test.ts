import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/consumer/decode.js'
import type { RawRecord } from '../../src/consumer/dead-letter.js'
import { KafkatuneError } from '../../src/errors.js'
import type { Serializer } from '../../src/serde/types.js'

const text: Serializer<string> = { name: 'string', serialize: (v) => Buffer.from(v), deserialize: (b) => b.toString() }
const failing: Serializer<string> = {
  name: 'strict',
  serialize: (v) => Buffer.from(v),
  deserialize: (b) => {
    throw new Error(`not valid: "${b.toString()}"`)
  },
}

function raw(headers: RawRecord['headers']): RawRecord {
  return { topic: 't', partition: 3, offset: '42', timestamp: '1700000000000', key: Buffer.from('k'), value: Buffer.from('secret-value'), headers }
}

describe('decodeRecord', () => {
  it('gives every message headers of its own, also when the fetched record shares a frozen empty object', () => {
    const shared = Object.freeze({}) as RawRecord['headers']
    const a = decodeRecord(raw(shared), text, text)
    const b = decodeRecord(raw(shared), text, text)
    if (a instanceof Promise || b instanceof Promise) throw new Error('sync deserializers decode synchronously')
    expect(a).toEqual({ topic: 't', partition: 3, offset: '42', timestamp: '1700000000000', key: 'k', value: 'secret-value', headers: {} })
    a.headers['x'] = Buffer.from('1')
    expect(b.headers).toEqual({})
    expect(Object.isFrozen(a.headers)).toBe(false)
  })

  it('a failing deserializer: DESERIALIZATION naming partition and offset, with no other field of the record', () => {
    let caught: unknown
    try {
      decodeRecord(raw({ h: Buffer.from('v') }), text, failing)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(KafkatuneError)
    const err = caught as KafkatuneError
    expect(err.code).toBe('DESERIALIZATION')
    expect(err.details).toEqual({ partition: 3, offset: '42', topic: 't', part: 'value', serializer: 'strict' })
    expect(err.message).toContain('partition 3, offset 42')
    expect(err.message).not.toContain('secret-value')
  })
})
