/**
 * Proof that plain kafkajs 2.2.4 works against the Apache Kafka 4.x broker the harness starts:
 * group consume with commits, idempotent and transactional producers, admin APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CompressionTypes } from 'kafkajs'
import type { Admin, Consumer, EachMessagePayload, Kafka } from 'kafkajs'
import { installRequestFraming, requestFramingStats } from '../../src/kafkajs/request-framing.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

let kafka: Kafka
let admin: Admin
const consumers: Consumer[] = []

beforeAll(async () => {
  kafka = testKafka('kafkajs-smoke')
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)))
  await admin?.disconnect()
})

async function consumeAll(
  topic: string,
  groupId: string,
  until: (seen: EachMessagePayload[]) => boolean,
  opts: { readUncommitted?: boolean } = {},
): Promise<{ seen: EachMessagePayload[]; consumer: Consumer }> {
  const consumer = kafka.consumer({ groupId, readUncommitted: opts.readUncommitted ?? false, maxWaitTimeInMs: 200 })
  consumers.push(consumer)
  const seen: EachMessagePayload[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async (payload) => {
      seen.push(payload)
    },
  })
  await waitFor(() => until(seen), 60_000)
  return { seen, consumer }
}

async function retryConcurrentTransactions(op: () => Promise<void>): Promise<void> {
  await waitFor(async () => {
    try {
      await op()
      return true
    } catch (err) {
      if ((err as { type?: string }).type === 'CONCURRENT_TRANSACTIONS') return false
      throw err
    }
  }, 30_000)
}

describe('kafkajs 2.2.4 on Apache Kafka 4.x', () => {
  it('talks to a 4.x broker', async () => {
    const cluster = await admin.describeCluster()
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1)
    expect(brokers().length).toBeGreaterThanOrEqual(1)
  })

  it('admin: createTopics, describeConfigs, fetchTopicOffsets', async () => {
    const topic = uniqueName('smoke-admin')
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      // waitForLeaders: true can fail with UNKNOWN_TOPIC_OR_PARTITION on KRaft while metadata propagates.
      waitForLeaders: false,
    })
    expect(created).toBe(true)
    await waitFor(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] })
      return (meta.topics[0]?.partitions ?? []).filter((p) => p.leader >= 0).length === 2
    }, 30_000)
    expect(await admin.listTopics()).toContain(topic)
    const described = await admin.describeConfigs({
      resources: [{ type: 2 /* ConfigResourceTypes.TOPIC */, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }],
      includeSynonyms: false,
    })
    const entries = described.resources[0]?.configEntries ?? []
    expect(entries.find((e) => e.configName === 'retention.ms')?.configValue).toBe('3600000')
    expect(entries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('delete')
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets.map((o) => o.high).sort()).toEqual(['0', '0'])
  })

  it('produces and consumes through a consumer group, and commits offsets', async () => {
    const topic = uniqueName('smoke-group')
    const groupId = uniqueName('smoke-group')
    await createTopic(topic, 3)
    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    const total = 600
    for (let batch = 0; batch < 3; batch++) {
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: Array.from({ length: total / 3 }, (_, i) => ({ key: `k${(batch * total) / 3 + i}`, value: `v${(batch * total) / 3 + i}` })),
      })
    }
    await producer.disconnect()

    const { seen, consumer } = await consumeAll(topic, groupId, (s) => s.length >= total)
    // Commits happen after processing; disconnecting flushes them.
    await consumer.disconnect()
    expect(seen).toHaveLength(total)
    expect(new Set(seen.map((p) => p.message.value?.toString())).size).toBe(total)
    expect(new Set(seen.map((p) => p.partition))).toEqual(new Set([0, 1, 2]))

    const high = await admin.fetchTopicOffsets(topic)
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
    const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]))
    for (const h of high) expect(byPartition.get(h.partition)).toBe(h.high)
    expect(high.reduce((sum, h) => sum + Number(h.high), 0)).toBe(total)
  })

  it('idempotent producer writes each record once', async () => {
    const topic = uniqueName('smoke-idem')
    await createTopic(topic, 1)
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `idem-${i}` }] })),
    )
    await producer.disconnect()
    expect(results.flat().every((r) => r.errorCode === 0)).toBe(true)
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets[0]?.high).toBe('20')
  })

  it('transactions: committed records are visible, aborted ones are not (read_committed)', async () => {
    const topic = uniqueName('smoke-txn')
    await createTopic(topic, 1)
    const producer = kafka.producer({ transactionalId: uniqueName('smoke-txn'), idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()

    const committed = await producer.transaction()
    await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] })
    await committed.commit()

    const aborted = await producer.transaction()
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] })
    await aborted.abort()

    const last = await producer.transaction()
    await last.send({ topic, messages: [{ value: 'committed-end' }] })
    await last.commit()
    await producer.disconnect()

    const values = (s: EachMessagePayload[]): string[] => s.map((p) => p.message.value?.toString() ?? '')
    const readCommitted = await consumeAll(topic, uniqueName('smoke-rc'), (s) => values(s).includes('committed-end'))
    expect(values(readCommitted.seen)).toEqual(['committed-1', 'committed-2', 'committed-end'])

    // The aborted records really were written: a read_uncommitted consumer sees them.
    const readUncommitted = await consumeAll(topic, uniqueName('smoke-ru'), (s) => values(s).includes('committed-end'), {
      readUncommitted: true,
    })
    expect(values(readUncommitted.seen)).toEqual(['committed-1', 'committed-2', 'aborted-1', 'aborted-2', 'committed-end'])
  })

  it('transactions: sendOffsets commits a consumer group offset atomically (TxnOffsetCommit)', async () => {
    const topic = uniqueName('smoke-eos')
    const groupId = uniqueName('smoke-eos')
    await createTopic(topic, 1)
    const producer = kafka.producer({ transactionalId: uniqueName('smoke-eos'), idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const txn = await producer.transaction()
    await txn.send({ topic, messages: [{ value: 'out' }] })
    await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '42' }] }] })
    await txn.commit()

    const aborted = await producer.transaction()
    // Right after a commit the coordinator may still be writing markers: AddOffsetsToTxn then answers
    // CONCURRENT_TRANSACTIONS, which kafkajs 2.2.4 does not retry for sendOffsets (the Java client does).
    await retryConcurrentTransactions(() =>
      aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '99' }] }] }),
    )
    await aborted.abort()
    await producer.disconnect()

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
    expect(offsets[0]?.partitions.find((p) => p.partition === 0)?.offset).toBe('42')
  })
})

// Last in this file, so the tests above ran without the patch: kafkatune's Produce framing patch changes nothing
// for kafkajs's own requests (only bodies kafkatune marks are framed in place).
describe('kafkajs 2.2.4 with kafkatune\'s request framing installed', () => {
  it('idempotent and transactional producers and a consumer group work as before; no kafkajs request is framed in place', async () => {
    installRequestFraming()
    const before = { ...requestFramingStats }
    const topic = uniqueName('smoke-framing')
    await createTopic(topic, 3)
    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    const big = 'b'.repeat(5000)
    const plainValues = Array.from({ length: 300 }, (_, i) => `p${i}${i % 50 === 0 ? big : ''}`)
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: plainValues.slice(0, 150).map((value, i) => ({ key: `k${i}`, value })) })
    await producer.send({ topic, acks: -1, messages: plainValues.slice(150).map((value, i) => ({ key: `k${i}`, value })) })
    await producer.disconnect()
    const txProducer = kafka.producer({ transactionalId: uniqueName('smoke-framing'), idempotent: true, maxInFlightRequests: 1 })
    await txProducer.connect()
    const txn = await txProducer.transaction()
    await txn.send({ topic, messages: [{ key: 'tx', value: 'committed-framing' }] })
    await txn.commit()
    await txProducer.disconnect()
    const expected = [...plainValues, 'committed-framing']
    const { seen, consumer } = await consumeAll(topic, uniqueName('smoke-framing'), (s) => s.length >= expected.length)
    await consumer.disconnect()
    expect(seen.map((p) => p.message.value?.toString() ?? '').sort()).toEqual(expected.sort())
    expect(requestFramingStats).toEqual(before)
  })
})
