import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import type { ConsumerOptions } from '../../src/config/index.js'
import { isKafkatuneError } from '../../src/errors.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

function consumerFor(topic: string, groupId: string, extra: Partial<ConsumerOptions>): Consumer {
  const c = createConsumer({
    brokers: brokers(),
    groupId,
    topics: [topic],
    logger: quietLogger(),
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxPollIntervalMs: 10_000,
    fetchMaxWaitMs: 100,
    commit: { strategy: 'per-message' },
    ...extra,
  })
  open.push(c as Consumer<unknown, unknown>)
  return c
}

async function commitOffset(groupId: string, topic: string, partition: number, offset: string): Promise<void> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    await admin.setOffsets({ groupId, topic, partitions: [{ partition, offset }] })
  } finally {
    await admin.disconnect()
  }
}

describe('start position, isolation and fetch sizes', () => {
  it("autoOffsetReset 'earliest' reads what is there, 'latest' only what comes after joining", async () => {
    const topic = uniqueName('reset')
    await createTopic(topic, 1)
    await produce(topic, [{ value: 'old-1' }, { value: 'old-2' }])
    const early: string[] = []
    const late: string[] = []
    const e = consumerFor(topic, uniqueName('g'), { autoOffsetReset: 'earliest' })
    const l = consumerFor(topic, uniqueName('g'), { autoOffsetReset: 'latest' })
    const lJoined = new Promise<void>((r) => l.on('group-join', () => r()))
    await e.connect()
    await l.connect()
    await e.run({ eachMessage: async (m) => void early.push(m.value!) })
    await l.run({ eachMessage: async (m) => void late.push(m.value!) })
    await lJoined
    await waitFor(() => early.length >= 2)
    // The latest consumer's start is resolved at its first fetch: keep producing until it sees something.
    let i = 0
    while (late.length === 0 && i < 100) {
      await produce(topic, [{ value: `new-${i++}` }])
      await waitFor(() => late.length > 0, 300).catch(() => {})
    }
    await waitFor(() => early.length >= 2 + i)
    expect(early).toEqual(['old-1', 'old-2', ...Array.from({ length: i }, (_, n) => `new-${n}`)])
    expect(late.length).toBeGreaterThan(0)
    expect(late.every((v) => v.startsWith('new-'))).toBe(true)
  })

  it("autoOffsetReset 'none' without a committed offset rejects run() with NO_COMMITTED_OFFSET, and starts from the commit when there is one", async () => {
    const topic = uniqueName('none')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, ['a', 'b', 'c'].map((value) => ({ value })))
    const c = consumerFor(topic, groupId, { autoOffsetReset: 'none' })
    await c.connect()
    const err = await c.run({ eachMessage: async () => {} }).then(() => null, (e: unknown) => e)
    expect(isKafkatuneError(err, 'NO_COMMITTED_OFFSET')).toBe(true)
    expect((err as Error).message).toContain(topic)

    await commitOffset(groupId, topic, 0, '1')
    const seen: string[] = []
    const c2 = consumerFor(topic, groupId, { autoOffsetReset: 'none' })
    await c2.connect()
    await c2.run({ eachMessage: async (m) => void seen.push(m.value!) })
    await waitFor(() => seen.length >= 2)
    expect(seen).toEqual(['b', 'c'])
  })

  it("a committed offset out of range follows autoOffsetReset ('none' rejects with OFFSET_OUT_OF_RANGE, 'earliest' restarts at the log start)", async () => {
    const topic = uniqueName('oor')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, ['a', 'b'].map((value) => ({ value })))
    await commitOffset(groupId, topic, 0, '50')
    const c = consumerFor(topic, groupId, { autoOffsetReset: 'none' })
    await c.connect()
    const err = await c.run({ eachMessage: async () => {} }).then(() => null, (e: unknown) => e)
    expect(isKafkatuneError(err, 'OFFSET_OUT_OF_RANGE')).toBe(true)

    const seen: string[] = []
    const c2 = consumerFor(topic, groupId, { autoOffsetReset: 'earliest' })
    await c2.connect()
    await c2.run({ eachMessage: async (m) => void seen.push(m.value!) })
    await waitFor(() => seen.length >= 2)
    expect(seen).toEqual(['a', 'b'])
    await c2.stop()
    expect((await committed(groupId, topic)).get(0)).toBe('2')
  })

  it("an offset that falls out of range while consuming stops an autoOffsetReset 'none' consumer with OFFSET_OUT_OF_RANGE", async () => {
    const topic = uniqueName('oor-live')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    // One record batch per send, and fetches of one batch at a time.
    for (let i = 0; i < 10; i++) await produce(topic, [{ value: `r${i}` }])
    await commitOffset(groupId, topic, 0, '2')
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const seen: string[] = []
    const c = consumerFor(topic, groupId, { autoOffsetReset: 'none', maxPartitionFetchBytes: 1, commit: { strategy: 'interval', intervalMs: 60_000 } })
    await c.connect()
    await c.run({
      eachMessage: async (m) => {
        seen.push(m.value!)
        await gate
      },
    })
    await waitFor(() => seen.length === 1)
    const admin = testKafka().admin()
    await admin.connect()
    try {
      // kafkajs only finds the partition leader for topics already in its metadata.
      await admin.fetchTopicMetadata({ topics: [topic] })
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '8' }] })
    } finally {
      await admin.disconnect()
    }
    release()
    const err = await c.stopped().then(() => null, (e: unknown) => e)
    expect(isKafkatuneError(err, 'OFFSET_OUT_OF_RANGE')).toBe(true)
    // Nothing from the reset position (8) was handed out. The next fetch may already have been answered before
    // the records were deleted (fetches are pipelined, as the Java consumer's fetch buffer): such records come
    // in order right after r2, never past the deleted range.
    expect(seen[0]).toBe('r2')
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => `r${i + 2}`))
    expect(seen.length).toBeLessThanOrEqual(6)
  })

  it('read_committed never shows aborted records; read_uncommitted does', async () => {
    const topic = uniqueName('iso')
    await createTopic(topic, 1)
    const producer = testKafka().producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      const aborted = await producer.transaction()
      await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] })
      await aborted.abort()
      const ok = await producer.transaction()
      await ok.send({ topic, messages: [{ value: 'committed-1' }] })
      await ok.commit()
    } finally {
      await producer.disconnect()
    }
    const rc: string[] = []
    const ru: string[] = []
    const c1 = consumerFor(topic, uniqueName('g'), { autoOffsetReset: 'earliest', isolationLevel: 'read_committed' })
    const c2 = consumerFor(topic, uniqueName('g'), { autoOffsetReset: 'earliest', isolationLevel: 'read_uncommitted' })
    await c1.connect()
    await c2.connect()
    await c1.run({ eachMessage: async (m) => void rc.push(m.value!) })
    await c2.run({ eachMessage: async (m) => void ru.push(m.value!) })
    await waitFor(() => rc.length >= 1 && ru.length >= 3).catch((e: unknown) => {
      throw new Error(`read_committed saw ${JSON.stringify(rc)}, read_uncommitted saw ${JSON.stringify(ru)}`, { cause: e })
    })
    await c1.stop()
    expect(rc).toEqual(['committed-1'])
    expect(ru).toEqual(['aborted-1', 'aborted-2', 'committed-1'])
    // Lag reaches 0 although the log ends in transaction markers.
    await waitFor(() => c1.metrics().totalLag === 0)
  })

  it('a record larger than maxPartitionFetchBytes does not stall its partition', async () => {
    const topic = uniqueName('big')
    await createTopic(topic, 1, { 'max.message.bytes': String(2 * 1024 * 1024) })
    const big = 'x'.repeat(300 * 1024)
    await produce(topic, [{ value: 'small-1' }, { value: big }, { value: 'small-2' }])
    const seen: number[] = []
    const c = consumerFor(topic, uniqueName('g'), { autoOffsetReset: 'earliest', maxPartitionFetchBytes: 64 * 1024, fetchMaxBytes: 128 * 1024 })
    await c.connect()
    await c.run({ eachMessage: async (m) => void seen.push(m.value!.length) })
    await waitFor(() => seen.length >= 3, 20_000)
    expect(seen).toEqual([7, big.length, 7])
  })
})
