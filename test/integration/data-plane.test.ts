/**
 * Golden tests of kafkatune's data plane against the real broker: record batches kafkatune encodes are
 * read back by kafkajs and by the Java console consumer for every codec; batches the Java producer wrote
 * (every codec) and kafkajs transactions (control batches, aborted transactions) decode identically
 * through kafkatune's decoder and kafkajs; a plain kafkajs client beside a kafkatune producer is unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import { pino } from 'pino'
import type { Admin, Consumer, Kafka } from 'kafkajs'
import { recordsCodecs, registerCodecs } from '../../src/codecs/index.js'
import { createCluster, findBroker } from '../../src/kafkajs/internals.js'
import type { KafkajsCluster } from '../../src/kafkajs/internals.js'
import { sendFetch } from '../../src/kafkajs/fetch.js'
import { sendDescribeProducers } from '../../src/kafkajs/describe-producers.js'
import { ProducerPlane } from '../../src/kafkajs/producer-plane.js'
import { createConsumer, createProducer } from '../../src/index.js'
import type { ConsumedMessage } from '../../src/index.js'
import { fetchDecoderStats } from '../../src/kafkajs/fetch-decoder.js'
import { requestFramingStats } from '../../src/kafkajs/request-framing.js'
import type { CompressionName, DecodedBatch, RecordHeader, RecordInput } from '../../src/protocol/index.js'
import { decodeControlRecord, decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/index.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { runJava } from '../helpers/java.js'

const { CompressionTypes } = kafkajs
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const T0 = 1_700_000_000_000
const quiet = pino({ level: 'warn' })

let kafka: Kafka
let admin: Admin
let cluster: KafkajsCluster
const consumers: Consumer[] = []

beforeAll(async () => {
  registerCodecs()
  kafka = testKafka('data-plane')
  admin = kafka.admin()
  await admin.connect()
  cluster = createCluster(kafka, {})
  await cluster.connect()
})

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)))
  await cluster?.disconnect()
  await admin?.disconnect()
})

async function leaderOf(topic: string): Promise<number> {
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  return md.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader
}

/** Every batch of partition 0 as stored by the broker, through kafkatune's Fetch and decoder. */
async function fetchBatches(topic: string, isolationLevel: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'): Promise<{ batches: DecodedBatch[]; aborted: { producerId: bigint; firstOffset: bigint }[] }> {
  const broker = await findBroker(cluster, await leaderOf(topic))
  const batches: DecodedBatch[] = []
  const aborted: { producerId: bigint; firstOffset: bigint }[] = []
  let offset = 0n
  for (;;) {
    const [p] = await sendFetch(broker, { maxWaitMs: 100, minBytes: 1, maxBytes: 8 << 20, isolationLevel, topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, maxBytes: 8 << 20 }] }] })
    expect(p!.errorCode).toBe(0)
    aborted.push(...p!.abortedTransactions)
    const { batches: got } = await decodeRecordBatches(p!.records, { codecs: recordsCodecs })
    if (got.length === 0) return { batches, aborted }
    batches.push(...got)
    const last = got[got.length - 1]!
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n
    if (offset >= (isolationLevel === 'read_committed' ? p!.lastStableOffset : p!.highWatermark)) return { batches, aborted }
  }
}

interface Seen {
  offset: string
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  headers: Record<string, Buffer | Buffer[] | undefined>
}

/** Everything kafkajs reads from `topic` (eachBatch, so control records and batch flags stay kafkajs's). */
async function kafkajsRead(topic: string, count: number, readUncommitted = true): Promise<Seen[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('dp'), maxWaitTimeInMs: 100, readUncommitted })
  consumers.push(consumer)
  const seen: Seen[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) seen.push({ offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: { ...m.headers } as Seen['headers'] })
    },
  })
  await waitFor(() => seen.length >= count, 60_000)
  await consumer.disconnect()
  return seen
}

/** kafkatune's decoded records in kafkajs's shape (repeated header keys become arrays, as kafkajs does). */
function asKafkajs(batches: DecodedBatch[]): Seen[] {
  return batches
    .filter((b) => !b.control)
    .flatMap((b) =>
      b.records.map((r) => {
        const headers: Seen['headers'] = {}
        for (const h of r.headers) {
          const v = h.value ?? undefined
          const prev = headers[h.key]
          headers[h.key] = prev === undefined && !(h.key in headers) ? (v as Buffer) : ([] as Buffer[]).concat(prev as Buffer, v as Buffer)
        }
        return { offset: r.offset.toString(), key: r.key, value: r.value, timestamp: String(r.timestamp), headers }
      }),
    )
}

const golden = (i: number): RecordInput & { headers: RecordHeader[] } => {
  const kinds = i % 5
  const headers: RecordHeader[] =
    kinds === 0 ? [{ key: 'rep', value: Buffer.from('one') }, { key: 'rep', value: Buffer.from('two') }, { key: '', value: Buffer.from('empty-key') }] : kinds === 1 ? [{ key: 'bin', value: Buffer.from([0, 255, 1, 254]) }] : []
  return {
    key: kinds === 2 ? null : kinds === 3 ? Buffer.from([0, 1, 2, 255]) : Buffer.from(`key-${i}`),
    value: kinds === 4 ? null : Buffer.from(`value-${i} ${'lorem ipsum '.repeat(i % 7)}`),
    headers,
    timestamp: T0 + i * 7 - (i % 3) * 1000,
  }
}

describe('kafkatune record batches on the real broker', () => {
  it('batches kafkatune encodes (every codec) are stored as sent and read back by kafkajs and by the Java console consumer', async () => {
    const plane = new ProducerPlane(kafka, { idempotent: false, transactionalId: null, transactionTimeoutMs: 60_000, addPartitionsDeadlineMs: 1000 })
    await plane.connect()
    const records = Array.from({ length: 60 }, (_, i) => golden(i))
    const topics = new Map<CompressionName, string>()
    try {
      for (const compression of CODECS) {
        const topic = uniqueName(`dp-golden-${compression}`)
        topics.set(compression, topic)
        await createTopic(topic, 1)
        // Two batches per topic: one from each half, so offsets continue across batches.
        for (const half of [records.slice(0, 30), records.slice(30)]) {
          const bytes = await encodeRecordBatch(half, { defaultTimestamp: T0, compression, codecs: recordsCodecs })
          const [r] = await plane.produce(await leaderOf(topic), { transactionalId: null, acks: -1, timeoutMs: 30_000, topics: [{ topic, partitions: [{ partition: 0, records: bytes }] }] })
          expect(r!.error).toBeNull()
        }
        const { batches } = await fetchBatches(topic)
        expect(batches.map((b) => [b.compression, b.recordCount, b.baseOffset])).toEqual([
          [compression, 30, 0n],
          [compression, 30, 30n],
        ])
        const want = records.map((r, i) => ({ offset: String(i), key: r.key, value: r.value, timestamp: String(r.timestamp), headers: r.headers }))
        expect(batches.flatMap((b) => b.records.map((r) => ({ offset: r.offset.toString(), key: r.key, value: r.value, timestamp: String(r.timestamp), headers: r.headers })))).toEqual(want)
        expect(await kafkajsRead(topic, records.length)).toEqual(asKafkajs(batches))
      }
    } finally {
      await plane.disconnect()
    }
    // The Java consumer: every record of every codec, printed with offset, timestamp, key, headers and value.
    const out = await runJava('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server', brokers().join(','),
      '--include', [...topics.values()].join('|'),
      '--from-beginning', '--max-messages', String(records.length * CODECS.length), '--timeout-ms', '60000',
      '--group', uniqueName('dp-java'),
      '--property', 'print.offset=true', '--property', 'print.timestamp=true', '--property', 'print.key=true', '--property', 'print.headers=true', '--property', 'print.partition=false',
      '--property', 'key.separator=|', '--property', 'line.separator=\n~~\n',
    ])
    const lines = out.split('\n~~\n').filter((l) => l.startsWith('CreateTime:'))
    expect(lines).toHaveLength(records.length * CODECS.length)
    // Binary keys and header values print as replacement characters: those records are compared through kafkajs above.
    const textual = records.flatMap((r, i) => (i % 5 === 1 || i % 5 === 3 ? [] : [javaLine(r, i)]))
    const printed = lines.filter((l) => textual.includes(l))
    expect(printed).toHaveLength(textual.length * CODECS.length)
    expect([...new Set(printed)].sort()).toEqual([...textual].sort())
  })

  it('the kafkatune producer (every codec) writes keys, tombstones, headers and explicit timestamps that kafkajs and the decoder read alike', async () => {
    for (const compression of CODECS) {
      const topic = uniqueName(`dp-producer-${compression}`)
      await createTopic(topic, 1)
      const p = createProducer<string, string | null>({ brokers: brokers(), compression, lingerMs: 20, logger: quiet })
      await p.connect()
      const sent = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          p.send({ topic, partition: 0, key: i % 4 === 0 ? null : `k${i}`, value: i % 4 === 1 ? null : `v${i}`, headers: i % 2 === 0 ? { h: `x${i}`, '': Buffer.from([0, 255]) } : undefined, timestamp: i % 3 === 0 ? T0 + i : undefined }),
        ),
      )
      const ratio = p.metrics().compressionRatio
      await p.disconnect()
      // Compressed size over the uncompressed batch: exactly 1 without compression, below 1 for these repetitive values otherwise.
      if (compression === 'none') expect(ratio).toBe(1)
      else expect(ratio).toBeLessThan(1)
      expect(sent.map((m) => m.offset)).toEqual(Array.from({ length: 40 }, (_, i) => String(i)))
      const { batches } = await fetchBatches(topic)
      expect(batches.every((b) => b.compression === compression && b.producerId >= 0n && b.baseSequence >= 0)).toBe(true)
      const decoded = asKafkajs(batches)
      expect(decoded.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null, r.headers])).toEqual(
        Array.from({ length: 40 }, (_, i) => [i % 4 === 0 ? null : `k${i}`, i % 4 === 1 ? null : `v${i}`, i % 2 === 0 ? { h: Buffer.from(`x${i}`), '': Buffer.from([0, 255]) } : {}]),
      )
      expect(decoded.map((r) => r.timestamp)).toEqual(sent.map((m) => m.timestamp))
      expect(decoded.filter((_, i) => i % 3 === 0).map((r) => r.timestamp)).toEqual(Array.from({ length: 14 }, (_, j) => String(T0 + j * 3)))
      expect(await kafkajsRead(topic, 40)).toEqual(decoded)
    }
  })

  it('batches the Java producer wrote (every codec) decode identically through kafkatune and kafkajs', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `rep:a${i},rep:b${i},solo:${'z'.repeat(i % 50)}^key-${i}|value-${i} ${'lorem ipsum '.repeat(i % 9)}`)
    for (const compression of CODECS) {
      const topic = uniqueName(`dp-java-${compression}`)
      await createTopic(topic, 1)
      await runJava(
        'org.apache.kafka.tools.ConsoleProducer',
        [
          '--bootstrap-server', brokers().join(','), '--topic', topic, '--compression-codec', compression,
          '--producer-property', 'linger.ms=50', '--producer-property', 'batch.size=16384',
          '--property', 'parse.key=true', '--property', 'key.separator=|',
          '--property', 'parse.headers=true', '--property', 'headers.delimiter=^', '--property', 'headers.separator=,', '--property', 'headers.key.separator=:',
        ],
        lines.join('\n') + '\n',
      )
      const { batches } = await fetchBatches(topic)
      expect(batches.length).toBeGreaterThan(1)
      expect(new Set(batches.map((b) => b.compression))).toEqual(new Set([compression]))
      const decoded = asKafkajs(batches)
      expect(decoded.map((r) => `rep:${(r.headers.rep as Buffer[])[0]},rep:${(r.headers.rep as Buffer[])[1]},solo:${String(r.headers.solo)}^${String(r.key)}|${String(r.value)}`)).toEqual(lines)
      expect(await kafkajsRead(topic, lines.length)).toEqual(decoded)
    }
  })

  it('transactions: control batches and aborted transactions decode as kafkajs and the broker see them', async () => {
    const topic = uniqueName('dp-txn')
    await createTopic(topic, 1)
    const producer = kafka.producer({ transactionalId: uniqueName('dp-tx'), idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    for (const [outcome, n] of [['commit', 3], ['abort', 2], ['commit', 1]] as const) {
      const txn = await producer.transaction()
      await txn.send({ topic, compression: CompressionTypes.LZ4, messages: Array.from({ length: n }, (_, i) => ({ key: `${outcome}-${i}`, value: `${outcome}-${i}` })) })
      await (outcome === 'commit' ? txn.commit() : txn.abort())
    }
    await producer.disconnect()
    const { batches, aborted } = await fetchBatches(topic, 'read_uncommitted')
    const data = batches.filter((b) => !b.control)
    const markers = batches.filter((b) => b.control)
    expect(data.map((b) => [b.transactional, b.recordCount, b.compression])).toEqual([
      [true, 3, 'lz4'],
      [true, 2, 'lz4'],
      [true, 1, 'lz4'],
    ])
    expect(markers.map((b) => decodeControlRecord(b.records[0]!.key).type)).toEqual(['commit', 'abort', 'commit'])
    expect(markers.every((b) => b.transactional && b.records.length === 1)).toBe(true)
    // The aborted transaction: its producer and first offset, as the broker lists it for read_committed readers.
    const { aborted: abortedCommitted } = await fetchBatches(topic, 'read_committed')
    expect(abortedCommitted).toEqual([{ producerId: data[1]!.producerId, firstOffset: data[1]!.baseOffset }])
    expect(aborted).toEqual([])
    // kafkajs read_uncommitted sees every data record; kafkatune's decoded data records match it.
    expect(await kafkajsRead(topic, 6, true)).toEqual(asKafkajs(batches))
  })

  it('a kafkatune consumer decodes fetched batches with kafkatune\'s decoder; a plain kafkajs consumer keeps its own', async () => {
    const topic = uniqueName('dp-consume')
    await createTopic(topic, 2)
    const p = createProducer<string, string>({ brokers: brokers(), compression: 'lz4', logger: quiet })
    await p.connect()
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.send({ topic, key: `k${i}`, value: `v${i}`, headers: { n: String(i) } })))
    await p.disconnect()
    const before = { ...fetchDecoderStats }
    const seen = await kafkajsRead(topic, 200)
    expect(fetchDecoderStats).toEqual(before)
    const consumer = createConsumer<string, string>({ brokers: brokers(), groupId: uniqueName('dp-tune'), topics: [topic], logger: quiet, autoOffsetReset: 'earliest' })
    const got: ConsumedMessage<string, string>[] = []
    await consumer.connect()
    await consumer.run({ eachMessage: async (m) => void got.push(m) })
    await waitFor(() => got.length >= 200, 60_000)
    await consumer.stop()
    expect(fetchDecoderStats.responses).toBeGreaterThan(before.responses)
    expect(fetchDecoderStats.batches).toBeGreaterThan(before.batches)
    const key = (m: { key: unknown; value: unknown }) => `${String(m.key)}=${String(m.value)}`
    expect(got.map(key).sort()).toEqual(seen.map((m) => `${m.key!.toString()}=${m.value!.toString()}`).sort())
    expect(got.find((m) => m.key === 'k7')?.headers).toMatchObject({ n: expect.anything() })
  })

  it('a plain kafkajs client in the same process works as before next to a kafkatune producer', async () => {
    const topic = uniqueName('dp-side-by-side')
    await createTopic(topic, 2, { 'max.message.bytes': '2000' })
    const tune = createProducer({ brokers: brokers(), logger: quiet })
    await tune.connect()
    const plain = testKafka('dp-plain').producer({ idempotent: true })
    await plain.connect()
    const [tuned] = await Promise.all([tune.send({ topic, partition: 0, value: 'from-kafkatune' }), plain.send({ topic, messages: [{ partition: 1, value: 'from-kafkajs' }] })])
    expect(tuned.offset).toBe('0')
    // kafkajs's own produce response handling is untouched: a refused partition still throws its protocol error.
    await expect(plain.send({ topic, messages: [{ partition: 1, value: 'x'.repeat(3000) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' })
    await plain.disconnect()
    await tune.disconnect()
    const seen = await kafkajsRead(topic, 2)
    expect(seen.map((m) => m.value!.toString()).sort()).toEqual(['from-kafkajs', 'from-kafkatune'])
  })
})

describe('DescribeProducers (kafkatune request on a kafkajs connection)', () => {
  it("reports an idempotent producer's last sequence per partition, and an error for a partition that does not exist", async () => {
    const topic = uniqueName('dp-describe')
    await createTopic(topic, 1)
    const plain = testKafka('dp-describe').producer({ idempotent: true })
    await plain.connect()
    await plain.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] })
    await plain.send({ topic, messages: [{ value: 'd' }, { value: 'e' }] })
    await plain.disconnect()
    const broker = await findBroker(cluster, await leaderOf(topic))
    const [p] = await sendDescribeProducers(broker, [{ topic, partitions: [0] }])
    expect(p).toMatchObject({ topic, partition: 0, errorCode: 0 })
    expect(p!.producers).toHaveLength(1)
    expect(p!.producers[0]!.lastSequence).toBe(4)
    expect(p!.producers[0]!.producerId >= 0n).toBe(true)
    const [missing] = await sendDescribeProducers(broker, [{ topic, partitions: [5] }])
    expect(missing?.errorCode).not.toBe(0)
    // The kafkajs connection keeps working for kafkajs's own requests afterwards.
    expect((await admin.fetchTopicOffsets(topic))[0]?.high).toBe('5')
  })
})

describe('Produce requests framed in place (no kafkajs framing copies)', () => {
  it('kafkatune producers (multi-byte, one-byte and long client ids) frame in place; a plain kafkajs producer and consumer beside them work as before', async () => {
    const topic = uniqueName('dp-framing')
    await createTopic(topic, 3)
    const plain = testKafka('dp-framing-plain').producer()
    await plain.connect()
    const sent: string[] = []
    for (const clientId of ['kafkatune-ü-日本-🚀', 'k', 'x'.repeat(200)]) {
      const tune = createProducer({ brokers: brokers(), clientId, logger: quiet, compression: clientId === 'k' ? 'lz4' : 'none' })
      await tune.connect()
      const before = { ...requestFramingStats }
      // Large values too: a request bigger than kafkajs's 512-byte first encoder buffer.
      const values = Array.from({ length: 50 }, (_, i) => `${clientId.length}:${i}:${'v'.repeat(i * 300)}`)
      const plainValues = values.slice(0, 5).map((v) => `plain-${v}`)
      await Promise.all([
        ...values.map((value) => tune.send({ topic, key: String(values.indexOf(value) % 3), value })),
        plain.send({ topic, messages: plainValues.map((value) => ({ value })) }),
      ])
      await tune.disconnect()
      // Each framed request adopts the body twice (header, then size prefix); nothing marked fell back to a copy.
      expect(requestFramingStats.adopted - before.adopted).toBeGreaterThanOrEqual(2)
      expect(requestFramingStats.adopted - before.adopted).toBeLessThanOrEqual(2 * values.length)
      expect(requestFramingStats.copied).toBe(before.copied)
      sent.push(...values, ...plainValues)
    }
    // Plain kafkajs requests never take the in-place path.
    const before = { ...requestFramingStats }
    await plain.send({ topic, messages: [{ value: 'plain-last' }] })
    expect(requestFramingStats).toEqual(before)
    await plain.disconnect()
    sent.push('plain-last')
    const seen = await kafkajsRead(topic, sent.length)
    expect(seen.map((m) => m.value!.toString()).sort()).toEqual(sent.sort())
    const consumer = createConsumer<string, string>({ brokers: brokers(), groupId: uniqueName('dp-framing'), topics: [topic], logger: quiet, autoOffsetReset: 'earliest' })
    const got: string[] = []
    await consumer.connect()
    await consumer.run({ eachMessage: async (m) => void got.push(m.value!) })
    await waitFor(() => got.length >= sent.length, 60_000)
    await consumer.stop()
    expect(got.sort()).toEqual(sent.sort())
  })
})

/** The line Java's DefaultMessageFormatter prints for a record with printable key, headers and value. */
function javaLine(r: RecordInput & { headers: RecordHeader[] }, offset: number): string {
  const headers = r.headers.length === 0 ? 'NO_HEADERS' : r.headers.map((h) => `${h.key}:${h.value === null ? 'NULL' : h.value.toString()}`).join(',')
  return `CreateTime:${String(r.timestamp)}|Offset:${offset}|${headers}|${r.key === null ? 'null' : r.key.toString()}|${r.value === null ? 'null' : r.value.toString()}`
}
