import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import type { ConsumedMessage } from '../../src/messages.js'
import { serializers } from '../../src/serde/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, numbered, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }
const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})
function track<K, V>(c: Consumer<K, V>): Consumer<K, V> {
  open.push(c as Consumer<unknown, unknown>)
  return c
}

describe('createConsumer', () => {
  it('eachMessage gets typed records in per-partition order and commits what it processed on stop()', async () => {
    const topic = uniqueName('cons-basic')
    const groupId = uniqueName('g')
    await createTopic(topic, 3)
    await produce(topic, numbered(600, 3).map((r) => ({ ...r, value: JSON.stringify({ n: Number(r.value.slice(2)) }) })))
    const seen: ConsumedMessage<string, { n: number }>[] = []
    const consumer = track(
      createConsumer<string, { n: number }>({
        brokers: brokers(),
        groupId,
        topics: [topic],
        logger: quietLogger(),
        autoOffsetReset: 'earliest',
        valueDeserializer: serializers.json<{ n: number }>(),
        commit: { strategy: 'batch', size: 50 },
        maxPollRecords: 40,
        ...fast,
      }),
    )
    await consumer.connect()
    await consumer.run({ eachMessage: async (m) => void seen.push(m) })
    await waitFor(() => seen.length >= 600, 60_000)
    await consumer.stop()
    expect(seen.length).toBe(600)
    for (const p of [0, 1, 2]) {
      const ns = seen.filter((m) => m.partition === p).map((m) => m.value!.n)
      expect(ns).toEqual([...ns].sort((a, b) => a - b))
      expect(ns.every((n) => n % 3 === p)).toBe(true)
    }
    const first = seen[0]!
    expect(typeof first.offset).toBe('string')
    expect(typeof first.timestamp).toBe('string')
    expect(first.key).toMatch(/^k\d+$/)
    const offsets = await committed(groupId, topic)
    expect([...offsets.values()]).toEqual(['200', '200', '200'])
    expect(consumer.metrics().records).toBe(600)
    expect(consumer.metrics().commits).toBeGreaterThan(0)
  })

  it('run() refuses a missing, doubled or non-function handler before it joins the group, and then runs', async () => {
    const topic = uniqueName('cons-run-args')
    await createTopic(topic, 1)
    await produce(topic, numbered(3, 1))
    const consumer = track(createConsumer({ brokers: brokers(), groupId: uniqueName('g'), topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', ...fast }))
    await consumer.connect()
    const refused = [
      [{}, /exactly one of eachMessage or eachBatch/],
      [{ eachMessage: async () => undefined, eachBatch: async () => undefined }, /exactly one of eachMessage or eachBatch/],
      [{ eachMessage: 5 }, /eachMessage must be a function, got number/],
      [{ eachBatch: 'x' }, /eachBatch must be a function, got string/],
    ] as const
    for (const [handlers, message] of refused) {
      await expect(consumer.run(handlers as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) })
    }
    const seen: string[] = []
    await consumer.run({ eachMessage: async (m) => void seen.push(m.value as string) })
    await waitFor(() => seen.length >= 3, 30_000)
    expect(seen).toHaveLength(3)
  })

  it('eachBatch calls never exceed maxPollRecords', async () => {
    const topic = uniqueName('cons-batch')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, numbered(1000, 1))
    const sizes: number[] = []
    let total = 0
    const consumer = track(
      createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', maxPollRecords: 64, commit: { strategy: 'interval', intervalMs: 200 }, ...fast }),
    )
    await consumer.connect()
    await consumer.run({
      eachBatch: async (msgs) => {
        sizes.push(msgs.length)
        total += msgs.length
      },
    })
    await waitFor(() => total >= 1000, 60_000)
    await consumer.stop()
    expect(total).toBe(1000)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64)
    expect(sizes.length).toBeGreaterThanOrEqual(Math.ceil(1000 / 64))
    expect((await committed(groupId, topic)).get(0)).toBe('1000')
  })

  it('stop() lets the in-flight handler finish, commits it, and leaves the group', async () => {
    const topic = uniqueName('cons-stop')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, numbered(20, 1))
    const started: string[] = []
    const finished: string[] = []
    const consumer = track(
      createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', commit: { strategy: 'interval', intervalMs: 60_000 }, ...fast }),
    )
    await consumer.connect()
    await consumer.run({
      eachMessage: async (m) => {
        started.push(m.value!)
        if (m.value === 'v-5') await new Promise((r) => setTimeout(r, 1500))
        finished.push(m.value!)
      },
    })
    await waitFor(() => started.includes('v-5'))
    await consumer.stop()
    expect(finished.at(-1)).toBe('v-5')
    expect(started).toEqual(finished)
    // Nothing committed by the 60 s interval: stop() committed what finished, the record in flight included.
    expect((await committed(groupId, topic)).get(0)).toBe('6')
    const m = consumer.metrics()
    expect(m.records).toBe(6)
    expect(m.commits).toBe(1)
    expect(m.handlerTimeMs.count).toBe(6)
    expect(m.handlerTimeMs.max).toBeGreaterThanOrEqual(1400)
    expect(m.handlerTimeMs.p99).toBeGreaterThanOrEqual(m.handlerTimeMs.p50)
    expect(m.recordsPerSecond).toBeGreaterThan(0)
    expect(m.lag[`${topic}/0`]).toBe(14)
  })

  it('partitionsConsumedConcurrently runs partitions in parallel and keeps each partition in order', async () => {
    const topic = uniqueName('cons-conc')
    const groupId = uniqueName('g')
    await createTopic(topic, 3)
    await produce(topic, numbered(90, 3))
    const seen: { partition: number; n: number }[] = []
    let inFlight = 0
    let maxInFlight = 0
    const consumer = track(
      createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', partitionsConsumedConcurrently: 3, maxPollRecords: 5, ...fast }),
    )
    await consumer.connect()
    await consumer.run({
      eachMessage: async (m) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise((r) => setTimeout(r, 5))
        seen.push({ partition: m.partition, n: Number(m.value!.slice(2)) })
        inFlight--
      },
    })
    await waitFor(() => seen.length >= 90, 30_000)
    await consumer.stop()
    expect(maxInFlight).toBeGreaterThan(1)
    expect(maxInFlight).toBeLessThanOrEqual(3)
    // Each partition exactly once, in order: no rebalance happened, so nothing may be redelivered.
    expect(seen.length).toBe(90)
    for (const p of [0, 1, 2]) {
      const ns = seen.filter((s) => s.partition === p).map((s) => s.n)
      expect(ns).toEqual(Array.from({ length: 30 }, (_, i) => p + 3 * i))
    }
    expect(consumer.metrics().rebalances).toBe(0)
  })
})
