/**
 * Fetch pipelining (src/kafkajs/fetch-prefetch.ts) on the real broker: a backlog is read with the next Fetch
 * already under way, and every record still comes once and in order per partition, also across pauses,
 * seeks and transactions (markers and aborted records between the batches).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import type { ConsumedMessage } from '../../src/messages.js'
import type { ConsumerOptions } from '../../src/config/index.js'
import { prefetchStats } from '../../src/kafkajs/fetch-prefetch.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { numbered, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

function consumerFor(topic: string, extra: Partial<ConsumerOptions> = {}): Consumer {
  const c = createConsumer({
    brokers: brokers(),
    groupId: uniqueName('prefetch'),
    topics: [topic],
    logger: quietLogger(),
    preset: 'high-throughput',
    autoOffsetReset: 'earliest',
    // Small fetches: many requests, so many predictions.
    maxPartitionFetchBytes: 4096,
    fetchMaxWaitMs: 100,
    ...extra,
  })
  open.push(c as Consumer<unknown, unknown>)
  return c
}

type Seen = Map<number, { offset: number; value: string }[]>
const record = (seen: Seen, m: ConsumedMessage<unknown, unknown>): void => {
  const list = seen.get(m.partition) ?? []
  list.push({ offset: Number(m.offset), value: String(m.value) })
  seen.set(m.partition, list)
}

describe('fetch pipelining', () => {
  it('reads a backlog with the next fetch under way, every record once and in order', async () => {
    const topic = uniqueName('prefetch-backlog')
    await createTopic(topic, 3)
    const records = numbered(6000, 3)
    await produce(topic, records)
    const before = { ...prefetchStats }
    const seen: Seen = new Map()
    const c = consumerFor(topic)
    await c.connect()
    await c.run({
      eachBatch: async (batch) => {
        for (const m of batch) record(seen, m)
        // A handler that takes a moment, so the predicted fetch is answered while it runs.
        await new Promise((r) => setTimeout(r, 2))
      },
    })
    await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) >= 6000, 60_000)
    for (let p = 0; p < 3; p++) {
      const got = seen.get(p)!
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 2000 }, (_, i) => i))
      expect(got.map((r) => r.value)).toEqual(records.filter((r) => r.partition === p).map((r) => r.value))
    }
    expect(prefetchStats.used - before.used).toBeGreaterThan(10)
  })

  it('a pause and a seek between batches drop the prediction; nothing is lost or repeated beyond the seek', async () => {
    const topic = uniqueName('prefetch-seek')
    await createTopic(topic, 2)
    const records = numbered(4000, 2)
    await produce(topic, records)
    const before = { ...prefetchStats }
    const seen: Seen = new Map()
    const c = consumerFor(topic)
    let sought = false
    let paused = false
    await c.connect()
    await c.run({
      eachBatch: async (batch) => {
        for (const m of batch) record(seen, m)
        const p0 = seen.get(0)?.length ?? 0
        if (!paused && p0 >= 300) {
          paused = true
          c.pause({ [topic]: [1] })
          setTimeout(() => c.resume({ [topic]: [1] }), 300)
        }
        if (!sought && p0 >= 600) {
          sought = true
          c.seek({ topic, partition: 0, offset: '100' })
        }
      },
    })
    await waitFor(() => (seen.get(1)?.length ?? 0) >= 2000 && sought && (seen.get(0)?.at(-1)?.offset ?? 0) >= 1999, 60_000)
    // Partition 1 was paused and resumed: each record once, in order.
    expect(seen.get(1)!.map((r) => r.offset)).toEqual(Array.from({ length: 2000 }, (_, i) => i))
    // Partition 0 was sought back to 100: in order up to the seek, then 100..1999 in order.
    const offsets0 = seen.get(0)!.map((r) => r.offset)
    const back = offsets0.findIndex((o, i) => i > 0 && o < offsets0[i - 1]!)
    expect(back).toBeGreaterThan(0)
    expect(offsets0.slice(0, back)).toEqual(Array.from({ length: back }, (_, i) => i))
    expect(offsets0.slice(back)).toEqual(Array.from({ length: 1900 }, (_, i) => 100 + i))
    expect(prefetchStats.discarded - before.discarded).toBeGreaterThan(0)
    expect(prefetchStats.used - before.used).toBeGreaterThan(0)
  })

  it('read_committed across committed and aborted transactions: the committed records once, in order', async () => {
    const topic = uniqueName('prefetch-txn')
    await createTopic(topic, 1)
    const producer = testKafka().producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const expected: string[] = []
    try {
      for (let t = 0; t < 30; t++) {
        const tx = await producer.transaction()
        const values = Array.from({ length: 50 }, (_, i) => `t${t}-${i}`)
        await tx.send({ topic, messages: values.map((value) => ({ value })) })
        if (t % 3 === 2) await tx.abort()
        else {
          await tx.commit()
          expected.push(...values)
        }
      }
    } finally {
      await producer.disconnect()
    }
    const before = { ...prefetchStats }
    const seen: Seen = new Map()
    const c = consumerFor(topic, { isolationLevel: 'read_committed', maxPartitionFetchBytes: 2048 })
    await c.connect()
    await c.run({ eachBatch: async (batch) => void batch.forEach((m) => record(seen, m)) })
    await waitFor(() => (seen.get(0)?.length ?? 0) >= expected.length, 60_000)
    // Nothing more comes: the aborted records and markers are skipped, not delivered late.
    await new Promise((r) => setTimeout(r, 500))
    expect(seen.get(0)!.map((r) => r.value)).toEqual(expected)
    expect(prefetchStats.used - before.used).toBeGreaterThan(0)
  })

  it('a plain kafkajs consumer in the same process is not pipelined', async () => {
    const topic = uniqueName('prefetch-plain')
    await createTopic(topic, 1)
    await produce(topic, numbered(2000, 1))
    const before = { ...prefetchStats }
    const consumer = testKafka().consumer({ groupId: uniqueName('plain'), maxBytesPerPartition: 4096 })
    let count = 0
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({ eachBatch: async ({ batch }) => void (count += batch.messages.length) })
      await waitFor(() => count >= 2000, 60_000)
    } finally {
      await consumer.disconnect()
    }
    expect(count).toBe(2000)
    expect(prefetchStats).toEqual(before)
  })
})
