/**
 * The pipeline's producers are kafkatune producers built by createProducer's own code: the producer tuning a
 * pipeline accepts shows in the record batches the broker stores (compression, transactional batches of one
 * chunk's outputs), and output headers that repeat a name keep every value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Admin, Consumer } from 'kafkajs'
import { recordsCodecs } from '../../src/codecs/index.js'
import { createCluster, findBroker } from '../../src/kafkajs/internals.js'
import type { KafkajsCluster } from '../../src/kafkajs/internals.js'
import { sendFetch } from '../../src/kafkajs/fetch.js'
import { createPipeline } from '../../src/index.js'
import type { Pipeline } from '../../src/pipeline/index.js'
import type { KafkatuneError } from '../../src/errors.js'
import type { DecodedBatch } from '../../src/protocol/index.js'
import { decodeRecordBatches } from '../../src/protocol/index.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

let admin: Admin
let cluster: KafkajsCluster
const running: Pipeline[] = []
const readers: Consumer[] = []
beforeAll(async () => {
  const kafka = testKafka('pipeline-tuning')
  admin = kafka.admin()
  await admin.connect()
  cluster = createCluster(kafka, {})
  await cluster.connect()
})
afterAll(async () => {
  await Promise.allSettled(running.map((p) => p.stop()))
  await Promise.allSettled(readers.map((c) => c.disconnect()))
  await cluster?.disconnect()
  await admin?.disconnect()
})

/** The data batches of partition 0 as the broker stores them (control batches left out). */
async function storedBatches(topic: string): Promise<DecodedBatch[]> {
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  const broker = await findBroker(cluster, md.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader)
  const out: DecodedBatch[] = []
  let offset = 0n
  for (;;) {
    const [p] = await sendFetch(broker, { maxWaitMs: 100, minBytes: 1, maxBytes: 8 << 20, isolationLevel: 'read_committed', topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, maxBytes: 8 << 20 }] }] })
    const { batches } = await decodeRecordBatches(p!.records, { codecs: recordsCodecs })
    if (batches.length === 0) return out
    out.push(...batches.filter((b) => !b.control))
    const last = batches[batches.length - 1]!
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n
    if (offset >= p!.lastStableOffset) return out
  }
}

describe('pipeline producer tuning takes effect', () => {
  it('compression: outputs are stored as batched, transactional zstd batches; repeated output headers keep every value', async () => {
    const [input, output] = [uniqueName('pt-in'), uniqueName('pt-out')]
    await createTopic(input, 1)
    await createTopic(output, 1)
    const groupId = uniqueName('pt-g')
    const N = 60
    await produce(input, Array.from({ length: N }, (_, i) => ({ key: 'same', value: `record number ${i} `.repeat(5) })))
    const pipeline = createPipeline({
      brokers: brokers(),
      logger: quietLogger(),
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('pt-tx'),
      producer: { compression: 'zstd', partitioner: 'murmur2' },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollRecords: 20, fetchMaxWaitMs: 100 },
      transform: (msg) => ({ key: msg.key, value: msg.value ?? '', headers: { hop: ['a', 'b'] } }),
    })
    running.push(pipeline)
    await pipeline.run()
    await waitFor(async () => (await committed(groupId, input)).get(0) === String(N), 60_000, 200)
    const batches = await storedBatches(output)
    expect(batches.reduce((n, b) => n + b.recordCount, 0)).toBe(N)
    expect(batches.every((b) => b.compression === 'zstd' && b.transactional && b.producerId >= 0n)).toBe(true)
    // Outputs are batched by the producer's accumulator: never one batch per record.
    expect(batches.length).toBeLessThanOrEqual(N / 10)
    const headers = batches.flatMap((b) => b.records.map((r) => r.headers.map((h) => `${h.key}=${h.value?.toString()}`).join(',')))
    expect(new Set(headers)).toEqual(new Set(['hop=a,hop=b']))
    expect(pipeline.metrics()).toMatchObject({ inputRecords: N, outputRecords: N })
  })

  it('without exactly-once (preset high-throughput): outputs are written, then the input offsets committed to the group', async () => {
    const [input, output] = [uniqueName('pt2-in'), uniqueName('pt2-out')]
    await createTopic(input, 2)
    await createTopic(output, 1)
    const groupId = uniqueName('pt2-g')
    const N = 100
    await produce(input, Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: String(i), partition: i % 2 })))
    const pipeline = createPipeline({
      brokers: brokers(),
      logger: quietLogger(),
      preset: 'high-throughput',
      groupId,
      from: input,
      to: output,
      producer: { compression: 'gzip' },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollRecords: 25, fetchMaxWaitMs: 100, autoOffsetReset: 'earliest' },
      transform: (msg) => (Number(msg.value) % 2 === 0 ? { key: msg.key, value: `even:${msg.value}` } : null),
    })
    running.push(pipeline)
    await pipeline.run()
    await waitFor(async () => {
      const c = await committed(groupId, input)
      return c.get(0) === String(N / 2) && c.get(1) === String(N / 2)
    }, 60_000, 200)
    const batches = await storedBatches(output)
    const values = batches.flatMap((b) => b.records.map((r) => r.value?.toString()))
    expect(values.sort()).toEqual(Array.from({ length: N / 2 }, (_, i) => `even:${i * 2}`).sort())
    expect(batches.every((b) => b.compression === 'gzip' && !b.transactional)).toBe(true)
    expect(pipeline.metrics()).toMatchObject({ inputRecords: N, outputRecords: N / 2, transactionsCommitted: 0 })
  })

  it('maxRequestSize: an output larger than it stops the pipeline before anything of its chunk is committed', async () => {
    const [input, output] = [uniqueName('pt3-in'), uniqueName('pt3-out')]
    await createTopic(input, 1)
    await createTopic(output, 1)
    const groupId = uniqueName('pt3-g')
    await produce(input, Array.from({ length: 10 }, (_, i) => ({ value: String(i) })))
    const pipeline = createPipeline({
      brokers: brokers(),
      logger: quietLogger(),
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('pt3-tx'),
      producer: { maxRequestSize: 2048 },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollRecords: 5, fetchMaxWaitMs: 100 },
      transform: (msg) => ({ value: msg.value === '7' ? 'x'.repeat(4096) : msg.value ?? '' }),
    })
    await pipeline.run()
    const err = await pipeline.stopped().then(() => null, (e: unknown) => e as KafkatuneError)
    expect(err).toMatchObject({ code: 'TRANSACTION_ABORTED', retriable: false })
    expect((err!.cause as KafkatuneError).code).toBe('RECORD_TOO_LARGE')
    expect((await committed(groupId, input)).get(0)).toBe('5')
  })
})
