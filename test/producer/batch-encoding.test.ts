import { describe, expect, it } from 'vitest'
import { recordsCodecs } from '../../src/codecs/index.js'
import { decodeRecordBatch } from '../../src/protocol/index.js'
import { BatchEncoding } from '../../src/producer/batch-encoding.js'
import type { BatchBytes } from '../../src/producer/batch-encoding.js'
import type { OutboundBatch, OutboundRecord } from '../../src/producer/sender.js'

function record(value: string, timestamp = ''): OutboundRecord {
  return { key: null, value: Buffer.from(value), headers: undefined, timestamp, sendAt: 0, size: 30, settle: () => true }
}

function batch(partition: number, n: number, timestamp = ''): OutboundBatch {
  return { topic: 't', partition, records: Array.from({ length: n }, (_, i) => record(`v${i}`, timestamp)), bytes: 0, createdAt: 0, closed: true, attempts: 0 }
}

const idempotent = (transactional = false): BatchEncoding => {
  const enc = new BatchEncoding({ compression: 'lz4', codecs: recordsCodecs, idempotent: true, transactional })
  enc.setIdentity(42n, 3)
  return enc
}

/** The bytes of an encoding; a writer writes at offset 3 of a larger buffer, as into a request body. */
async function materialize(bytes: BatchBytes): Promise<Buffer> {
  if (Buffer.isBuffer(bytes) || bytes instanceof Promise) return await bytes
  const body = Buffer.alloc(bytes.size + 10)
  bytes.writeInto(body, 3)
  return body.subarray(3, 3 + bytes.size)
}

const header = async (bytes: BatchBytes) => {
  const b = await decodeRecordBatch(await materialize(bytes), 0, { codecs: recordsCodecs })
  return { producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, transactional: b.transactional, timestamps: b.records.map((r) => r.timestamp) }
}

describe('BatchEncoding', () => {
  it('writes the sequence a batch took when it was drained; partitions count on their own', async () => {
    const enc = idempotent()
    const a = batch(0, 3)
    const b = batch(0, 2)
    enc.sequences.dispatched(a, 1)
    enc.sequences.dispatched(b, 1)
    // Encoded in any order, each batch carries its own sequence (several in flight per partition).
    expect((await header(enc.encode(b, 1000))).baseSequence).toBe(3)
    expect(await header(enc.encode(a, 1000))).toMatchObject({ producerId: 42n, producerEpoch: 3, baseSequence: 0 })
    // A batch the sender did not sequence takes the next one; another partition starts at 0.
    expect((await header(enc.encode(batch(0, 1), 1000))).baseSequence).toBe(5)
    expect((await header(enc.encode(batch(1, 1), 1000))).baseSequence).toBe(0)
  })

  it('resends a batch byte-identical (same sequence, same create time) until it is answered', async () => {
    const enc = idempotent()
    const a = batch(0, 4)
    const first = enc.encode(a, 1000)
    const again = enc.encode(a, 9999)
    expect(again).toBe(first)
    expect((await header(again)).timestamps).toEqual([1000, 1000, 1000, 1000])
    expect(a.records.map((r) => r.timestamp)).toEqual(['1000', '1000', '1000', '1000'])
  })

  it('under a new identity, a waiting batch is resent as it was unless its partition is re-sequenced', async () => {
    const enc = idempotent()
    const a = batch(0, 2)
    const b = batch(1, 2)
    const before = enc.encode(a, 5)
    enc.encode(b, 5)
    enc.sequences.rewrite(b) // the broker refused b for its identity
    enc.setIdentity(7n, 1)
    // a may be on the broker already: only the same bytes under the old id are recognised as a copy.
    expect(enc.encode(a, 6)).toBe(before)
    const after = enc.encode(b, 6)
    expect(await header(after)).toMatchObject({ producerId: 7n, producerEpoch: 1, baseSequence: 0, timestamps: [5, 5] })
  })

  it('without compression the batch is written straight into the request body, and a resend sends what was written', async () => {
    const enc = new BatchEncoding({ compression: 'none', codecs: recordsCodecs, idempotent: true, transactional: false })
    enc.setIdentity(5n, 0)
    const a = batch(0, 3)
    const first = enc.encode(a, 10)
    expect(Buffer.isBuffer(first)).toBe(false)
    const written = await materialize(first)
    const again = enc.encode(a, 99)
    expect(Buffer.isBuffer(again)).toBe(true)
    expect(again).toEqual(written)
    expect(await header(again)).toMatchObject({ producerId: 5n, baseSequence: 0, timestamps: [10, 10, 10] })
  })

  it('transactional batches carry the flag; producers without idempotence write no id or sequence', async () => {
    expect((await header(idempotent(true).encode(batch(0, 1), 1))).transactional).toBe(true)
    const plain = new BatchEncoding({ compression: 'none', codecs: recordsCodecs, idempotent: false, transactional: false })
    expect(await header(plain.encode(batch(0, 1, '77'), 1))).toMatchObject({ producerId: -1n, producerEpoch: -1, baseSequence: -1, transactional: false, timestamps: [77] })
  })
})
