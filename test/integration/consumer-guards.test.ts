import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer, GroupJoinEvent, MaxPollIntervalExceededEvent } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('timing guards', () => {
  it('a 10 s handler with a 6 s session timeout is processed once, without a rebalance', async () => {
    const topic = uniqueName('slow')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    const consumer = createConsumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      commit: { strategy: 'per-message' },
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1000,
      maxPollIntervalMs: 20_000,
      fetchMaxWaitMs: 100,
    })
    open.push(consumer as Consumer<unknown, unknown>)
    const joins: GroupJoinEvent[] = []
    consumer.on('group-join', (e) => void joins.push(e))
    let calls = 0
    let done = 0
    await consumer.connect()
    await consumer.run({
      eachMessage: async (m) => {
        calls++
        if (m.value === 'slow') await sleep(10_000)
        done++
      },
    })
    await produce(topic, [{ value: 'slow' }])
    await waitFor(() => done >= 1, 30_000)
    // One more record after the slow one: the member is still healthy and in the same generation.
    await produce(topic, [{ value: 'after' }])
    await waitFor(() => done >= 2, 15_000)
    await consumer.stop()
    expect(calls).toBe(2)
    expect(joins).toHaveLength(1)
    expect(consumer.metrics().rebalances).toBe(0)
    expect(consumer.metrics().maxPollIntervalExceeded).toBe(0)
    expect((await committed(groupId, topic)).get(0)).toBe('2')
  })

  it('a handler stuck past maxPollIntervalMs loses its partition to a healthy member, which processes the record', async () => {
    const topic = uniqueName('stuck')
    const groupId = uniqueName('g')
    await createTopic(topic, 2)
    const config = {
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest' as const,
      commit: { strategy: 'per-message' as const },
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1000,
      maxPollIntervalMs: 8000,
      fetchMaxWaitMs: 100,
    }
    const a = createConsumer(config)
    const b = createConsumer(config)
    open.push(a as Consumer<unknown, unknown>, b as Consumer<unknown, unknown>)
    const aJoins: GroupJoinEvent[] = []
    const bJoins: GroupJoinEvent[] = []
    a.on('group-join', (e) => void aJoins.push(e))
    b.on('group-join', (e) => void bJoins.push(e))
    const exceeded: MaxPollIntervalExceededEvent[] = []
    a.on('max-poll-interval-exceeded', (e) => void exceeded.push(e))
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    const aSeen: string[] = []
    const bSeen: { value: string; at: number }[] = []
    await a.connect()
    await b.connect()
    await a.run({
      eachMessage: async (m) => {
        aSeen.push(m.value!)
        if (m.value === 'stuck') await released
      },
    })
    await b.run({ eachMessage: async (m) => void bSeen.push({ value: m.value!, at: Date.now() }) })
    const owns = (joins: GroupJoinEvent[]) => joins.at(-1)?.assignment[topic] ?? []
    await waitFor(() => owns(aJoins).length === 1 && owns(bJoins).length === 1, 30_000)
    const aPartition = owns(aJoins)[0]!

    await produce(topic, [{ value: 'stuck', partition: aPartition }])
    await waitFor(() => aSeen.includes('stuck'), 15_000)
    const stuckAt = Date.now()
    try {
      await waitFor(() => bSeen.some((s) => s.value === 'stuck'), 8000 + 6000 + 10_000)
      const movedAfter = bSeen.find((s) => s.value === 'stuck')!.at - stuckAt
      expect(movedAfter).toBeGreaterThanOrEqual(8000)
      expect(movedAfter).toBeLessThan(8000 + 6000 + 6000)
      expect(exceeded).toHaveLength(1)
      expect(exceeded[0]).toMatchObject({ topic, partition: aPartition, offset: '0', maxPollIntervalMs: 8000 })
      expect(exceeded[0]!.elapsedMs).toBeGreaterThan(8000)
      expect(owns(bJoins)).toEqual([0, 1])
    } finally {
      release()
    }
    // The slow member comes back, rejoins, and the group goes on.
    const aJoinsBefore = aJoins.length
    await waitFor(() => aJoins.length > aJoinsBefore && owns(aJoins).length === 1, 30_000)
    await produce(topic, [{ value: 'next-0', partition: 0 }, { value: 'next-1', partition: 1 }])
    await waitFor(() => [...aSeen, ...bSeen.map((s) => s.value)].filter((v) => v.startsWith('next-')).length >= 2, 20_000)
    expect(a.metrics().maxPollIntervalExceeded).toBe(1)
    await a.stop()
    await b.stop()
    expect((await committed(groupId, topic)).get(aPartition)).toBe('2')
  })
})
