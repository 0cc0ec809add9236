import { describe, expect, it } from 'vitest'
import { decodeDescribeProducersResponse, encodeDescribeProducersRequest } from '../../src/protocol/describe-producers.js'

/** A response payload as a broker writes it (after the correlation id): header tagged fields first. */
function response(topic: string, partition: number, errorCode: number, producers: [bigint, number, number][]): Buffer {
  const parts: Buffer[] = []
  const u8 = (n: number) => Buffer.from([n])
  const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b }
  const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b }
  const i64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(n); return b }
  parts.push(u8(0), i32(7), u8(2), u8(Buffer.byteLength(topic) + 1), Buffer.from(topic), u8(2), i32(partition), i16(errorCode), u8(0), u8(producers.length + 1))
  for (const [id, epoch, last] of producers) parts.push(i64(id), i32(epoch), i32(last), i64(1700000000000n), i32(-1), i64(-1n), u8(0))
  // A tagged field on the partition (tag 0, 2 bytes) must be skipped.
  parts.push(u8(1), u8(0), u8(2), Buffer.from([9, 9]), u8(0), u8(0))
  return Buffer.concat(parts)
}

describe('DescribeProducers v0', () => {
  it('encodes a flexible request body behind header v2 tagged fields', () => {
    const body = encodeDescribeProducersRequest([{ topic: 'orders', partitions: [0, 3] }])
    expect([...body]).toEqual([0, 2, 7, ...Buffer.from('orders'), 3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0])
  })

  it('decodes producers, their last sequences and errors, skipping tagged fields', () => {
    const r = decodeDescribeProducersResponse(response('orders', 3, 0, [[42n, 1, 6199], [43n, 0, -1]]))
    expect(r.throttleTimeMs).toBe(7)
    expect(r.partitions).toEqual([{ topic: 'orders', partition: 3, errorCode: 0, producers: [{ producerId: 42n, producerEpoch: 1, lastSequence: 6199 }, { producerId: 43n, producerEpoch: 0, lastSequence: -1 }] }])
  })

  it('refuses a truncated response with CORRUPT_RECORD', () => {
    const full = response('orders', 0, 0, [[1n, 0, 5]])
    expect(() => decodeDescribeProducersResponse(full.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD' }))
  })
})
