import { describe, expect, it } from 'vitest'
import { KafkatuneError } from '../../src/errors.js'
import { deserializeOrThrow, serializeOrThrow, serializers } from '../../src/serde/index.js'
import type { Serializer, SerdeContext } from '../../src/serde/index.js'

const valueCtx: SerdeContext = { topic: 'orders', part: 'value' }
const keyCtx: SerdeContext = { topic: 'orders', part: 'key' }

function syncThrow(fn: () => unknown): KafkatuneError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(KafkatuneError)
    return err as KafkatuneError
  }
  throw new Error('expected a throw')
}

describe('serializeOrThrow', () => {
  it('returns the bytes synchronously for synchronous serializers', () => {
    const out = serializeOrThrow(serializers.json<{ a: number }>(), { a: 1 }, valueCtx)
    expect(Buffer.isBuffer(out)).toBe(true)
    expect((out as Buffer).toString()).toBe('{"a":1}')
  })

  it('wraps a synchronous failure as SERIALIZATION naming topic, part, serializer and cause', () => {
    const err = syncThrow(() => serializeOrThrow(serializers.string(), 42 as unknown as string, keyCtx))
    expect(err.code).toBe('SERIALIZATION')
    expect(err.retriable).toBe(false)
    expect(err.message).toBe('key serializer "string" failed for topic "orders": expected a string, got number')
    expect(err.details).toMatchObject({ topic: 'orders', part: 'key', serializer: 'string' })
    expect(err.cause).toBeInstanceOf(TypeError)
  })

  it('wraps avro validation errors', () => {
    const serde = serializers.avro<{ n: number }>({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }] })
    const err = syncThrow(() => serializeOrThrow(serde, { n: 1.5 }, valueCtx))
    expect(err.code).toBe('SERIALIZATION')
    expect(err.message).toMatch(/value serializer "avro" failed for topic "orders": value does not match Avro schema R: n: expected int, got number 1.5/)
  })

  it('wraps an asynchronous rejection, and a non-Buffer result', async () => {
    const failing: Serializer<string> = {
      name: 'remote',
      serialize: async () => {
        throw new Error('registry down')
      },
      deserialize: (b) => b.toString(),
    }
    const p = serializeOrThrow(failing, 'x', valueCtx)
    expect(p).toBeInstanceOf(Promise)
    await expect(p).rejects.toMatchObject({ code: 'SERIALIZATION', message: 'value serializer "remote" failed for topic "orders": registry down' })
    const wrongType: Serializer<string> = { serialize: (v) => v as unknown as Buffer, deserialize: (b) => b.toString() }
    expect(syncThrow(() => serializeOrThrow(wrongType, 'x', valueCtx)).message).toMatch(/"custom" failed .*returned string, expected a Buffer/)
    const asyncWrong: Serializer<string> = { name: 'a', serialize: async () => null as unknown as Buffer, deserialize: (b) => b.toString() }
    await expect(serializeOrThrow(asyncWrong, 'x', valueCtx)).rejects.toMatchObject({ code: 'SERIALIZATION' })
  })

  it('accepts Uint8Array results as Buffers', () => {
    const u8: Serializer<string> = { serialize: () => new Uint8Array([1, 2]) as Buffer, deserialize: () => '' }
    const out = serializeOrThrow(u8, 'x', valueCtx) as Buffer
    expect(Buffer.isBuffer(out)).toBe(true)
    expect([...out]).toEqual([1, 2])
  })
})

describe('deserializeOrThrow', () => {
  it('returns the value', () => {
    expect(deserializeOrThrow(serializers.json<{ a: number }>(), Buffer.from('{"a":2}'), valueCtx)).toEqual({ a: 2 })
  })

  it('wraps failures as DESERIALIZATION with partition and offset when given', async () => {
    const err = syncThrow(() => deserializeOrThrow(serializers.json(), Buffer.from('{oops'), valueCtx, { partition: 3, offset: '42' }))
    expect(err.code).toBe('DESERIALIZATION')
    expect(err.message).toMatch(/^value deserializer "json" failed for topic "orders", partition 3, offset 42: /)
    expect(err.details).toMatchObject({ topic: 'orders', part: 'value', serializer: 'json', partition: 3, offset: '42' })
    const asyncFail: Serializer<string> = {
      name: 'sr',
      serialize: () => Buffer.alloc(0),
      deserialize: async () => {
        throw new Error('unknown schema id 9')
      },
    }
    await expect(deserializeOrThrow(asyncFail, Buffer.alloc(1), keyCtx)).rejects.toMatchObject({
      code: 'DESERIALIZATION',
      message: 'key deserializer "sr" failed for topic "orders": unknown schema id 9',
    })
  })

  it('keeps the payload out of the message and the kept cause (it may hold personal data)', () => {
    const secret = 'jane.doe@example.org, born 1970-01-01'
    for (const payload of [`{"email": ${secret}}`, `${secret}`, `'${secret}'`]) {
      const err = syncThrow(() => deserializeOrThrow(serializers.json(), Buffer.from(payload), valueCtx, { partition: 0, offset: '7' }))
      const seen = `${err.message}\n${String((err.cause as Error).message)}\n${JSON.stringify(err.details)}`
      expect(seen).not.toContain('jane')
      expect(seen).not.toContain('1970')
      expect(err.message).toMatch(/offset 7: /)
      expect((err.cause as Error).name).toBe('SyntaxError')
    }
  })
})
