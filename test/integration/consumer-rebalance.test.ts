/**
 * Rebalance hooks and the handover between members: a member joins mid-stream; the first member's
 * onPartitionsRevoked runs after its in-flight records were committed, and with per-message commits no record
 * is processed twice across the handover. pause/resume/seek act on the live consumer.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import type { TopicPartitions } from '../../src/consumer/assignors/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 300, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100, maxPollRecords: 10 }

describe('rebalance hooks', () => {
  it('a member joins mid-stream: revoked after the in-flight records were committed, assigned before records flow, nothing twice', async () => {
    const topic = uniqueName('rb')
    const groupId = uniqueName('g')
    const P = 4
    const N = 2000
    await createTopic(topic, P)
    await produce(topic, Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: String(i), partition: i % P })))
    const seen: { member: string; partition: number; offset: string }[] = []
    const log: string[] = []
    const processedBy = (m: string) => seen.filter((s) => s.member === m).length

    const make = async (name: string): Promise<void> => {
      const consumer = createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', commit: { strategy: 'per-message' }, ...fast })
      open.push(consumer as Consumer<unknown, unknown>)
      let owned: TopicPartitions = {}
      await consumer.connect()
      await consumer.run({
        eachMessage: async (msg) => {
          const parts = owned[topic] ?? []
          // A record handed out for a partition the hooks did not announce would be a broken handover.
          if (!parts.includes(msg.partition)) log.push(`${name} got ${msg.partition}@${msg.offset} outside its assignment`)
          seen.push({ member: name, partition: msg.partition, offset: msg.offset })
          await new Promise((r) => setTimeout(r, 2))
        },
        onPartitionsAssigned: (parts) => {
          owned = parts
          log.push(`${name} assigned ${(parts[topic] ?? []).join(',')}`)
        },
        onPartitionsRevoked: async (parts) => {
          // Everything this member finished on the revoked partitions is committed before this runs.
          const offsets = await committed(groupId, topic)
          for (const p of parts[topic] ?? []) {
            const mine = seen.filter((s) => s.member === name && s.partition === p)
            const last = mine.length === 0 ? null : mine.reduce((a, b) => (BigInt(a.offset) > BigInt(b.offset) ? a : b))
            if (last !== null && offsets.get(p) !== String(BigInt(last.offset) + 1n)) log.push(`${name} revoked ${p} with ${offsets.get(p)} committed after ${last.offset}`)
          }
          owned = {}
          log.push(`${name} revoked ${(parts[topic] ?? []).join(',')}`)
        },
      })
    }

    await make('a')
    await waitFor(() => processedBy('a') >= 200, 60_000)
    await make('b')
    await waitFor(() => seen.length >= N, 120_000)
    await new Promise((r) => setTimeout(r, 1000)) // a duplicate would arrive after the count is reached

    expect(log.filter((l) => l.includes('outside') || l.includes('committed after'))).toEqual([])
    expect(log.some((l) => l.startsWith('a revoked'))).toBe(true)
    expect(log.some((l) => l.startsWith('b assigned') && l.length > 'b assigned '.length)).toBe(true)
    const keys = seen.map((s) => `${s.partition}@${s.offset}`)
    expect({ processed: keys.length, unique: new Set(keys).size }).toEqual({ processed: N, unique: N })
    expect(processedBy('b')).toBeGreaterThan(0)
  }, 200_000)

  it('pause stops a partition, resume restarts it, seek rereads from an offset', async () => {
    const topic = uniqueName('prs')
    await createTopic(topic, 2)
    await produce(topic, Array.from({ length: 20 }, (_, i) => ({ value: String(i), partition: i % 2 })))
    const consumer = createConsumer({ brokers: brokers(), groupId: uniqueName('g'), topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', ...fast })
    open.push(consumer as Consumer<unknown, unknown>)
    const got: string[] = []
    await consumer.connect()
    consumer.on('partitions-assigned', () => consumer.pause({ [topic]: [1] }))
    await consumer.run({ eachMessage: async (m) => void got.push(`${m.partition}@${m.offset}`) })
    await waitFor(() => got.length >= 10, 30_000)
    await new Promise((r) => setTimeout(r, 1000))
    expect(got.every((g) => g.startsWith('0@'))).toBe(true)
    consumer.resume({ [topic]: [1] })
    await waitFor(() => got.length >= 20, 30_000)
    consumer.seek({ topic, partition: 0, offset: '7' })
    await waitFor(() => got.length >= 23, 30_000)
    expect(got.slice(20)).toEqual(['0@7', '0@8', '0@9'])
  })
})
