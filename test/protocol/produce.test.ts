import { describe, expect, it } from 'vitest'
import { decodeProduceResponse, encodeProduceRequest } from '../../src/protocol/produce.js'
import { encodeRecordBatch, prepareRecordBatch } from '../../src/protocol/record-batch-encode.js'

describe('Produce v7', () => {
  it('encodes the request body field by field', () => {
    const buf = encodeProduceRequest({ transactionalId: 'tx', acks: -1, timeoutMs: 30000, topics: [{ topic: 'tópic', partitions: [{ partition: 3, records: Buffer.from([1, 2, 3]) }] }] })
    let p = 0
    expect(buf.readInt16BE(p)).toBe(2)
    expect(buf.toString('utf8', (p += 2), (p += 2))).toBe('tx')
    expect(buf.readInt16BE(p)).toBe(-1)
    expect(buf.readInt32BE((p += 2))).toBe(30000)
    expect(buf.readInt32BE((p += 4))).toBe(1)
    expect(buf.readInt16BE((p += 4))).toBe(Buffer.byteLength('tópic'))
    expect(buf.toString('utf8', (p += 2), (p += 6))).toBe('tópic')
    expect(buf.readInt32BE(p)).toBe(1)
    expect(buf.readInt32BE((p += 4))).toBe(3)
    expect(buf.readInt32BE((p += 4))).toBe(3)
    expect([...buf.subarray((p += 4))]).toEqual([1, 2, 3])
    const noTxn = encodeProduceRequest({ transactionalId: null, acks: 1, timeoutMs: 1, topics: [] })
    expect(noTxn.readInt16BE(0)).toBe(-1)
    expect(noTxn.length).toBe(12)
  })

  it('a batch writer puts the same bytes into the body as a separately encoded batch', () => {
    const records = [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: null }], timestamp: 5 }, { key: null, value: null }]
    const opts = { defaultTimestamp: 7, producerId: 3n, producerEpoch: 1, baseSequence: 9 }
    const encoded = encodeRecordBatch(records, opts) as Buffer
    const writer = prepareRecordBatch(records, opts)
    if (Buffer.isBuffer(writer) || writer instanceof Promise) throw new Error('expected a writer without compression')
    const a = encodeProduceRequest({ transactionalId: null, acks: 1, timeoutMs: 1, topics: [{ topic: 't', partitions: [{ partition: 0, records: encoded }, { partition: 1, records: encoded }] }] })
    const b = encodeProduceRequest({ transactionalId: null, acks: 1, timeoutMs: 1, topics: [{ topic: 't', partitions: [{ partition: 0, records: encoded }, { partition: 1, records: writer }] }] })
    expect(b).toEqual(a)
  })

  it('decodes a response with offsets beyond 2^53 and rejects a truncated one', () => {
    const topic = Buffer.from('t')
    const buf = Buffer.alloc(4 + 2 + 1 + 4 + 30 + 4)
    let p = buf.writeInt32BE(1, 0)
    p = buf.writeInt16BE(1, p)
    p += topic.copy(buf, p)
    p = buf.writeInt32BE(1, p)
    p = buf.writeInt32BE(2, p)
    p = buf.writeInt16BE(6, p)
    p = buf.writeBigInt64BE(2n ** 60n, p)
    p = buf.writeBigInt64BE(-1n, p)
    p = buf.writeBigInt64BE(5n, p)
    buf.writeInt32BE(7, p)
    expect(decodeProduceResponse(buf)).toEqual({ partitions: [{ topic: 't', partition: 2, errorCode: 6, baseOffset: String(2n ** 60n), logAppendTime: '-1', logStartOffset: '5' }], throttleTimeMs: 7 })
    expect(() => decodeProduceResponse(buf.subarray(0, 20))).toThrow(/truncated/)
  })
})
