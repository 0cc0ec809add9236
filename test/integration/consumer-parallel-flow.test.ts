/** ordering 'key' on the real broker: back-pressure pauses only the partition that is behind; a handler past maxPollIntervalMs. */
import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { produce, quietLogger } from '../fixtures/consumer-helpers.js'

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
})
