/**
 * Background commits against the real broker: records finished while a commit is in flight do not each queue
 * another commit, so a busy consumer commits about once per `size` records, not back to back.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, numbered, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const RECORDS = 1000
const SIZE = 50

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

describe('commit pace', () => {
  it.each(['hybrid', 'batch'] as const)('%s: one commit per size records at most (plus the final one), everything committed after stop()', async (strategy) => {
    const topic = uniqueName(`pace-${strategy}`)
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, numbered(RECORDS, 1))
    const commit = strategy === 'hybrid' ? { strategy, size: SIZE, intervalMs: 600_000 } : { strategy, size: SIZE }
    const consumer = createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', commit })
    open.push(consumer as Consumer<unknown, unknown>)
    let seen = 0
    await consumer.connect()
    // About 1 ms per record: records keep finishing while each commit is in flight, as in a live stream.
    await consumer.run({
      eachMessage: async () => {
        await new Promise((r) => setTimeout(r, 1))
        seen++
      },
    })
    await waitFor(() => seen >= RECORDS, 60_000)
    await consumer.stop()
    // Each commit is asked for by SIZE records of the partition; stop() adds one.
    expect(consumer.metrics().commits).toBeLessThanOrEqual(RECORDS / SIZE + 1)
    expect(consumer.metrics().commits).toBeGreaterThanOrEqual(1)
    expect((await committed(groupId, topic)).get(0)).toBe(String(RECORDS))
  })
})
