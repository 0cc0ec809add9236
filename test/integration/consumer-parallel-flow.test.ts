/** ordering 'key' on the real broker: back-pressure pauses only the partition that is behind; a handler past maxPollIntervalMs. */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

describe("ordering 'key': flow control on the real broker", () => {
  it('a slow partition is paused at its bound while a fast one keeps flowing; every record handled once, keys in order', async () => {
    const SLOW = 300
    const FAST = 3000
    const topic = uniqueName('par-flow')
    await createTopic(topic, 2)
    // Partition 0: one key, so its records run one after another at 40 ms each (12 s). Partition 1: 300 keys, no wait.
    await produce(topic, Array.from({ length: SLOW }, (_, i) => ({ key: 'slow', value: `s-${i}`, partition: 0 })))
    await produce(topic, Array.from({ length: FAST }, (_, i) => ({ key: `k${i % 300}`, value: `f-${i}`, partition: 1 })))

    const seen = new Map<string, number>()
    const byKey = new Map<string, number[]>()
    const handled = [0, 0]
    let slowWhenFastDone = -1
    const consumer = createConsumer({
      brokers: brokers(),
      groupId: uniqueName('g'),
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      ordering: 'key',
      concurrency: 8,
      // The bound: max(maxPollRecords, 4 x concurrency) = 100 pending records per partition.
      maxPollRecords: 100,
      fetchMaxWaitMs: 50,
      commit: { strategy: 'interval', intervalMs: 200 },
    })
    open.push(consumer as Consumer<unknown, unknown>)
    await consumer.connect()
    let peakSlowPending = 0
    await consumer.run({
      eachMessage: async (m) => {
        if (m.partition === 0) await sleep(40)
        const id = `${m.partition}:${m.offset}`
        seen.set(id, (seen.get(id) ?? 0) + 1)
        const k = `${m.partition}/${m.key}`
        byKey.set(k, [...(byKey.get(k) ?? []), Number(m.offset)])
        handled[m.partition]!++
        if (m.partition === 1 && handled[1] === FAST) slowWhenFastDone = handled[0]!
        peakSlowPending = Math.max(peakSlowPending, consumer.metrics().queueDepth[`${topic}/0`] ?? 0)
      },
    })
    await waitFor(() => handled[1]! >= FAST, 60_000)
    console.log(`back-pressure: fast partition done (${FAST}) when the slow one had ${slowWhenFastDone}/${SLOW}; slow partition pending peak ${peakSlowPending}`)
    // The fast partition did not wait for the slow one to work off what was fetched for it.
    expect(slowWhenFastDone).toBeLessThan(SLOW / 2)
    expect(peakSlowPending).toBeLessThanOrEqual(100)
    await waitFor(() => handled[0]! >= SLOW, 60_000)
    await sleep(300)
    await consumer.stop()

    expect(seen.size).toBe(SLOW + FAST)
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
    for (const [, offsets] of byKey) expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
  })

  it('a handler past maxPollIntervalMs: the record is given up and not committed past, the member rejoins, the consumer goes on and handles it again', async () => {
    const RECORDS = 200
    const STUCK = 50
    const topic = uniqueName('par-overrun')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % 10}`, value: `v-${i}`, partition: 0 })))

    const errors: string[] = []
    const logger = pino(
      { level: 'error' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          errors.push(JSON.parse(chunk.toString()).msg as string)
          done()
        },
      }),
    )
    const counts = new Map<number, number>()
    const committedWhen: { event: number; rehandled: number } = { event: -2, rehandled: -2 }
    const read = async () => Number((await committed(groupId, topic)).get(0) ?? '-1')
    let hung = false
    const consumer = createConsumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger,
      autoOffsetReset: 'earliest',
      ordering: 'key',
      concurrency: 8,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1000,
      maxPollIntervalMs: 6000,
      fetchMaxWaitMs: 100,
      commit: { strategy: 'interval', intervalMs: 200 },
    })
    open.push(consumer as Consumer<unknown, unknown>)
    let failure: unknown = null
    consumer.stopped().catch((err: unknown) => (failure = err))
    const events: unknown[] = []
    let eventCommitted: Promise<number> | null = null
    consumer.on('max-poll-interval-exceeded', (e) => {
      events.push(e)
      eventCommitted = read()
    })
    const members: string[] = []
    consumer.on('group-join', (e) => void members.push(e.memberId))
    await consumer.connect()
    await consumer.run({
      eachMessage: async (m) => {
        const o = Number(m.offset)
        if (o === STUCK && !hung) {
          hung = true
          // Hangs past the guard, deaf to its signal.
          await sleep(9000)
          return
        }
        if (o === STUCK) committedWhen.rehandled = await read()
        await sleep(5)
        counts.set(o, (counts.get(o) ?? 0) + 1)
      },
    })
    await waitFor(() => counts.size >= RECORDS, 60_000)
    committedWhen.event = await eventCommitted!
    await waitFor(async () => (await read()) === RECORDS, 10_000)
    await consumer.stop()

    const duplicates = [...counts.values()].filter((n) => n > 1).length
    console.log(`overrun: committed ${committedWhen.event} at the event and ${committedWhen.rehandled} when the record was handled again; ${duplicates} records handled twice; errors logged: ${JSON.stringify(errors)}`)
    expect(failure).toBeNull()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ topic, partition: 0, offset: String(STUCK), maxPollIntervalMs: 6000 })
    expect(errors.filter((m) => m.includes('maxPollIntervalMs'))).toHaveLength(1)
    // Never committed past the stuck record until it was handled again.
    expect(committedWhen.event).toBeLessThanOrEqual(STUCK)
    expect(committedWhen.rehandled).toBeLessThanOrEqual(STUCK)
    expect(counts.get(STUCK)).toBe(1)
    // It left the group and joined again as a new member.
    expect(members).toHaveLength(2)
    expect(members[1]).not.toBe(members[0])
    for (let o = 0; o < RECORDS; o++) expect(counts.get(o) ?? 0).toBeGreaterThanOrEqual(1)
    expect(duplicates).toBeLessThanOrEqual(8)
  })
})
