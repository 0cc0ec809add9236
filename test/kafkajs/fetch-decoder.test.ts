import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { recordsCodecs, registerCodecs } from '../../src/codecs/index.js'
import { decodeFetchV11 } from '../../src/kafkajs/fetch-decoder.js'
import type { CompressionName, RecordHeader } from '../../src/protocol/index.js'
import { controlRecordKey, encodeRecordBatch } from '../../src/protocol/index.js'

const requireKafkajs = createRequire(import.meta.url)
const kafkajsV11 = requireKafkajs('kafkajs/src/protocol/requests/fetch/v11/response.js') as { decode: (raw: Buffer) => Promise<unknown> }

/** A Fetch v11 response body: one topic, the given partitions with their raw record bytes. */
function fetchResponse(topic: string, partitions: { partition: number; records: Buffer; aborted?: [bigint, bigint][]; errorCode?: number; readReplica?: number }[]): Buffer {
  const parts: Buffer[] = []
  const head = Buffer.alloc(14)
  head.writeInt32BE(7, 0) // throttle
  head.writeInt16BE(0, 4)
  head.writeInt32BE(99, 6) // session id
  head.writeInt32BE(1, 10) // topics
  parts.push(head)
  const name = Buffer.from(topic)
  const t = Buffer.alloc(2 + name.length + 4)
  t.writeInt16BE(name.length, 0)
  name.copy(t, 2)
  t.writeInt32BE(partitions.length, 2 + name.length)
  parts.push(t)
  for (const p of partitions) {
    const aborted = p.aborted ?? []
    const b = Buffer.alloc(4 + 2 + 8 * 3 + 4 + aborted.length * 16 + 4 + 4)
    let o = b.writeInt32BE(p.partition, 0)
    o = b.writeInt16BE(p.errorCode ?? 0, o)
    o = b.writeBigInt64BE(1000n, o)
    o = b.writeBigInt64BE(900n, o)
    o = b.writeBigInt64BE(0n, o)
    o = b.writeInt32BE(aborted.length, o)
    for (const [pid, first] of aborted) {
      o = b.writeBigInt64BE(pid, o)
      o = b.writeBigInt64BE(first, o)
    }
    o = b.writeInt32BE(p.readReplica ?? -1, o)
    b.writeInt32BE(p.records.length, o)
    parts.push(b, p.records)
  }
  return Buffer.concat(parts)
}

const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))
const headerKey = fc.string({ unit: 'grapheme', maxLength: 6 }).filter((k) => !(k in Object.prototype))
const record = fc.record({
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  headers: fc.array(fc.record({ key: headerKey, value: bytes }), { maxLength: 4 }) as fc.Arbitrary<RecordHeader[]>,
  timestamp: fc.option(fc.integer({ min: 0, max: 2 ** 43 }), { nil: undefined }),
})

interface Decoded {
  responses: { topicName: string; partitions: { errorCode: number; preferredReadReplica: number; messages: unknown[] }[] }[]
}

/** kafkajs's decoded response without the partitions kafkatune's decoder leaves out: no error, no records, no read replica. */
function withoutQuietPartitions(decoded: Decoded): Decoded {
  return { ...decoded, responses: decoded.responses.map((r) => ({ ...r, partitions: r.partitions.filter((p) => p.errorCode !== 0 || p.messages.length > 0 || p.preferredReadReplica !== -1) })) }
}

describe('Fetch v11 through kafkatune\'s decoder', () => {
  it('gives exactly the objects kafkajs\'s own decoder gives (every codec, repeated headers, control and log-append batches, a partial tail)', async () => {
    registerCodecs()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ records: fc.array(record, { minLength: 1, maxLength: 8 }), compression: fc.constantFrom<CompressionName>('none', 'gzip', 'snappy', 'lz4', 'zstd'), logAppend: fc.boolean(), transactional: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        fc.nat(40),
        async (batches, cut) => {
          let offset = 5n
          const encoded: Buffer[] = []
          for (const b of batches) {
            encoded.push(await encodeRecordBatch(b.records, { defaultTimestamp: 1_700_000_000_000, compression: b.compression, codecs: recordsCodecs, baseOffset: offset, timestampType: b.logAppend ? 'log-append' : 'create', transactional: b.transactional, producerId: 9n, producerEpoch: 2, baseSequence: 4 }))
            offset += BigInt(b.records.length)
          }
          encoded.push(await encodeRecordBatch([{ key: controlRecordKey('commit'), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], { defaultTimestamp: 1, control: true, transactional: true, baseOffset: offset }))
          const whole = Buffer.concat(encoded)
          // A second partition ends with a partial batch (the broker cuts at the fetch size).
          const cutAt = Math.max(0, whole.length - 1 - cut)
          const raw = fetchResponse('t', [
            { partition: 0, records: whole, aborted: [[9n, 5n]] },
            { partition: 3, records: whole.subarray(0, cutAt) },
          ])
          const mine = (await decodeFetchV11(raw)) as { responses: { partitions: { messages: unknown[] }[] }[] }
          expect(mine.responses[0]!.partitions[0]!.messages).toHaveLength(batches.reduce((n, b) => n + b.records.length, 0) + 1)
          expect(mine).toEqual(withoutQuietPartitions((await kafkajsV11.decode(raw)) as Decoded))
        },
      ),
      { numRuns: 80 },
    )
  })

  it('a partition with an empty records field and no error is left out; kafkajs would only skip its empty batch', async () => {
    const raw = fetchResponse('t', [{ partition: 1, records: Buffer.alloc(0) }])
    const theirs = (await kafkajsV11.decode(raw)) as Decoded
    expect(theirs.responses[0]!.partitions).toHaveLength(1)
    expect(theirs.responses[0]!.partitions[0]!.messages).toEqual([])
    const mine = (await decodeFetchV11(raw)) as unknown as Decoded
    expect(mine.responses[0]!.partitions).toEqual([])
    expect(mine).toEqual(withoutQuietPartitions(theirs))
  })

  it('an empty partition with an error or a preferred read replica is kept', async () => {
    const raw = fetchResponse('t', [{ partition: 1, records: Buffer.alloc(0), errorCode: 1 }, { partition: 2, records: Buffer.alloc(0), readReplica: 3 }, { partition: 4, records: Buffer.alloc(0) }])
    const mine = (await decodeFetchV11(raw)) as unknown as Decoded
    expect(mine.responses[0]!.partitions.map((p) => [p.errorCode, p.preferredReadReplica])).toEqual([[1, -1], [0, 3]])
    expect(mine).toEqual(withoutQuietPartitions((await kafkajsV11.decode(raw)) as Decoded))
  })
})
