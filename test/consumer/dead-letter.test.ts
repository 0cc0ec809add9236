import { describe, expect, it } from 'vitest'
import { deadLetterRecord, DLQ_HEADERS } from '../../src/consumer/dead-letter.js'
import { KafkatuneError } from '../../src/errors.js'

const raw = {
  topic: 'orders',
  partition: 3,
  offset: '42',
  timestamp: '1700000000000',
  key: Buffer.from([1, 2, 3]),
  value: Buffer.from([0xff, 0x00]),
  headers: { trace: Buffer.from('abc') },
}

describe('deadLetterRecord', () => {
  it('keeps the original bytes and headers and names where and why', () => {
    const cause = new RangeError('amount < 0')
    const err = new KafkatuneError('HANDLER_FAILED', 'Handler failed', { cause })
    const out = deadLetterRecord(raw, err, 'billing', 3)
    expect(out.key).toBe(raw.key)
    expect(out.value).toBe(raw.value)
    expect(out.headers).toMatchObject({
      trace: raw.headers.trace,
      [DLQ_HEADERS.topic]: 'orders',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.timestamp]: '1700000000000',
      [DLQ_HEADERS.errorName]: 'RangeError',
      [DLQ_HEADERS.errorCode]: 'HANDLER_FAILED',
      [DLQ_HEADERS.errorMessage]: 'amount < 0',
      [DLQ_HEADERS.group]: 'billing',
      [DLQ_HEADERS.attempts]: '3',
    })
  })

  it('names a deserialization failure by its code and accepts non-Error throws', () => {
    const out = deadLetterRecord(raw, new KafkatuneError('DESERIALIZATION', 'bad json'), 'g', 0)
    expect(out.headers[DLQ_HEADERS.errorCode]).toBe('DESERIALIZATION')
    expect(out.headers[DLQ_HEADERS.errorMessage]).toBe('bad json')
    const weird = deadLetterRecord(raw, 'a string', 'g', 1)
    expect(weird.headers[DLQ_HEADERS.errorMessage]).toBe('a string')
    expect(weird.headers[DLQ_HEADERS.errorCode]).toBeUndefined()
  })

  it('keeps every value of a repeated original header, in order, and drops absent ones', () => {
    const out = deadLetterRecord({ ...raw, headers: { trace: [Buffer.from('a'), 'b'], gone: undefined } }, new Error('x'), 'g', 1)
    expect(out.headers.trace).toEqual([Buffer.from('a'), 'b'])
    expect('gone' in out.headers).toBe(false)
  })
})
