import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { framedBody, installRequestFraming, requestFramingStats, requestHeadroom } from '../../src/kafkajs/request-framing.js'
import { encodeProduceRequest, encodeProduceRequestWithRoom } from '../../src/protocol/produce.js'
import { prepareRecordBatch } from '../../src/protocol/record-batch-encode.js'

const requireKafkajs = createRequire(import.meta.url)
type Encoded = { buf: Buffer; readonly buffer: Buffer }
interface KafkajsRequestObject {
  apiKey: number
  apiVersion: number
  encode(): Promise<Encoded>
}
const createRequest = requireKafkajs('kafkajs/src/protocol/request.js') as (args: { correlationId: number; clientId: string | null; request: KafkajsRequestObject }) => Promise<Encoded>
const Encoder = requireKafkajs('kafkajs/src/protocol/encoder.js') as { prototype: object }
const produceV7 = requireKafkajs('kafkajs/src/protocol/requests/produce/v7/request.js') as (args: object) => KafkajsRequestObject
const metadataV6 = requireKafkajs('kafkajs/src/protocol/requests/metadata/v6/request.js') as (args: object) => KafkajsRequestObject

const CLIENT_IDS = ['kafkajs', '', 'klient-ü-日本-🚀', 'x'.repeat(300)]

/** Frames `body` as kafkajs does for a request of its own (an unmarked body: the original path). */
async function kafkajsFramed(body: Buffer, clientId: string | null, correlationId: number): Promise<Buffer> {
  const plain = { buf: body, buffer: body }
  const out = await createRequest({ correlationId, clientId, request: { apiKey: 0, apiVersion: 7, encode: () => Promise.resolve(plain) } })
  return Buffer.from(out.buffer)
}

/** kafkajs's own requests, framed (Metadata and a Produce with an lz4-free, fixed-timestamp record batch). */
async function plainKafkajsRequests(): Promise<Buffer[]> {
  const requests = [
    metadataV6({ topics: ['a', 'tópic-b'], allowAutoTopicCreation: false }),
    produceV7({
      acks: -1,
      timeout: 30000,
      transactionalId: 'tx',
      producerId: 7,
      producerEpoch: 1,
      compression: 0,
      topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 3, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(i * 40), timestamp: 1_700_000_000_000 + i, headers: { h: 'x' } })) }] }],
    }),
  ]
  const out: Buffer[] = []
  for (const [i, request] of requests.entries()) {
    for (const clientId of CLIENT_IDS) out.push(Buffer.from((await createRequest({ correlationId: 40 + i, clientId, request })).buffer))
  }
  return out
}

function body(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

describe('kafkajs request framing of kafkatune bodies', () => {
  it('plain kafkajs requests encode identically before and after the patch is installed', async () => {
    // Each test file runs in its own process: the patch is not in place yet.
    expect((Encoder.prototype as Record<symbol, unknown>)[Symbol.for('kafkatune.encoderFramingPatch')]).toBeUndefined()
    const before = await plainKafkajsRequests()
    installRequestFraming()
    installRequestFraming()
    expect((Encoder.prototype as Record<symbol, unknown>)[Symbol.for('kafkatune.encoderFramingPatch')]).toBe(true)
    const stats = { ...requestFramingStats }
    expect(await plainKafkajsRequests()).toEqual(before)
    expect(requestFramingStats).toEqual(stats)
    expect(before[CLIENT_IDS.length]!.length).toBeGreaterThan(2048)
  })

  it('a framed body goes out byte for byte as kafkajs frames it, in the body\'s own buffer', async () => {
    installRequestFraming()
    for (const clientId of [...CLIENT_IDS, null]) {
      for (const size of [0, 12, 3000, 70_000]) {
        const content = body(size, size + 1)
        const room = requestHeadroom(clientId)
        const backing = Buffer.alloc(room + size, 0xee)
        content.copy(backing, room)
        const framed = framedBody(backing, room)
        const out = await createRequest({ correlationId: 123456, clientId, request: { apiKey: 0, apiVersion: 7, encode: () => Promise.resolve(framed) } })
        expect(out.buffer).toEqual(await kafkajsFramed(content, clientId, 123456))
        // No copy: the request is the body's buffer, header and size in the room in front.
        expect(out.buffer.buffer).toBe(backing.buffer)
        expect(out.buffer.byteOffset).toBe(backing.byteOffset)
        expect(out.buffer.length).toBe(backing.length)
      }
    }
  })

  it('any headroom framed in place; a body framed a second time is copied, leaving the first request intact', async () => {
    installRequestFraming()
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 5000 }), async (clientId, extra, size) => {
        const content = body(size, extra)
        const room = requestHeadroom(clientId) + extra
        const backing = Buffer.alloc(room + size)
        content.copy(backing, room)
        const framed = framedBody(backing, room)
        const request = { apiKey: 0, apiVersion: 7, encode: () => Promise.resolve(framed) }
        const expected = await kafkajsFramed(content, clientId, 1)
        const first = await createRequest({ correlationId: 1, clientId, request })
        expect(first.buffer).toEqual(expected)
        expect(first.buffer.buffer).toBe(backing.buffer)
        const firstBytes = Buffer.from(first.buffer)
        const second = await createRequest({ correlationId: 2, clientId, request })
        expect(second.buffer).toEqual(await kafkajsFramed(content, clientId, 2))
        expect(second.buffer.buffer).not.toBe(backing.buffer)
        expect(first.buffer).toEqual(firstBytes)
      }),
      { numRuns: 100 },
    )
  })

  it('too little room (a longer client id than the body was written for) falls back to kafkajs\'s copy', async () => {
    installRequestFraming()
    const content = body(1000, 3)
    for (const short of [0, 1, 4, 5]) {
      const clientId = 'longer-client-id-ü'
      const room = requestHeadroom(clientId) - short
      const backing = Buffer.alloc(room + content.length, 0xab)
      content.copy(backing, room)
      const copied = requestFramingStats.copied
      const out = await createRequest({ correlationId: 9, clientId, request: { apiKey: 0, apiVersion: 7, encode: () => Promise.resolve(framedBody(backing, room)) } })
      expect(out.buffer).toEqual(await kafkajsFramed(content, clientId, 9))
      expect(out.buffer.buffer === backing.buffer).toBe(short === 0)
      expect(requestFramingStats.copied - copied).toBe(short === 0 ? 0 : 1)
      // The body itself is never rewritten.
      expect(backing.subarray(room)).toEqual(content)
    }
  })

  it('a kafkatune Produce body with room frames to what kafkajs makes of the same body', async () => {
    installRequestFraming()
    const writer = prepareRecordBatch(
      Array.from({ length: 30 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(100, i), timestamp: 1_700_000_000_000 + i })),
      { defaultTimestamp: 0 },
    )
    const req = { transactionalId: null, acks: 1 as const, timeoutMs: 30000, topics: [{ topic: 'tópic', partitions: [{ partition: 2, records: writer as Exclude<typeof writer, Promise<Buffer>> }] }] }
    const plainBody = encodeProduceRequest(req)
    for (const clientId of CLIENT_IDS) {
      const room = requestHeadroom(clientId)
      const backing = encodeProduceRequestWithRoom(req, room)
      expect(backing.subarray(room)).toEqual(plainBody)
      const out = await createRequest({ correlationId: 77, clientId, request: { apiKey: 0, apiVersion: 7, encode: () => Promise.resolve(framedBody(backing, room)) } })
      expect(out.buffer).toEqual(await kafkajsFramed(plainBody, clientId, 77))
      expect(out.buffer.buffer).toBe(backing.buffer)
    }
  })
})
