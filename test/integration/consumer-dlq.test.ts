import { afterEach, describe, expect, it } from 'vitest'
import { createAdmin } from '../../src/admin/index.js'
import { createConsumer, DLQ_HEADERS } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { isKafkatuneError, KafkatuneError } from '../../src/errors.js'
import { serializers } from '../../src/serde/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger, readAll } from '../fixtures/consumer-helpers.js'

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }
const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

type Rec = { kind: 'good' | 'fail' | 'flaky'; id: number }

describe('retries and the dead-letter topic', () => {
  it('10,000 good + 10 undecodable + 5 always failing + 5 flaky: all good processed, 15 dead-lettered with headers, lag 0', async () => {
    const topic = uniqueName('dlq-src')
    const dlq = uniqueName('dlq')
    const groupId = uniqueName('g')
    await createTopic(topic, 2)
    await createTopic(dlq, 1)
    const records: { key: string; value: string; headers?: Record<string, string | string[]> }[] = []
    let id = 0
    for (let i = 0; i < 10_000; i++) {
      records.push({ key: `k${i}`, value: JSON.stringify({ kind: 'good', id: id++ } satisfies Rec) })
      // Kafka headers may repeat a name: the dead-letter record keeps every value, in order.
      if (i % 1000 === 500) records.push({ key: `bad${i}`, value: '{not json', headers: { trace: `t${i}`, hop: ['a', 'b', `c${i}`] } })
      if (i % 2000 === 700) records.push({ key: `fail${i}`, value: JSON.stringify({ kind: 'fail', id: id++ } satisfies Rec) })
      if (i % 2000 === 1300) records.push({ key: `flaky${i}`, value: JSON.stringify({ kind: 'flaky', id: id++ } satisfies Rec) })
    }
    expect(records.length).toBe(10_020)
    await produce(topic, records)

    const processed = new Set<number>()
    const tries = new Map<number, number>()
    const consumer = createConsumer<string, Rec>({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      valueDeserializer: serializers.json<Rec>(),
      commit: { strategy: 'hybrid', size: 500, intervalMs: 500 },
      retry: { attempts: 3, backoffMs: 20, maxBackoffMs: 100 },
      deadLetterTopic: dlq,
      ...fast,
    })
    open.push(consumer as Consumer<unknown, unknown>)
    await consumer.connect()
    await consumer.run({
      eachMessage: async ({ value }) => {
        const rec = value!
        const n = (tries.get(rec.id) ?? 0) + 1
        tries.set(rec.id, n)
        if (rec.kind === 'fail') throw new TypeError(`record ${rec.id} is poison`)
        if (rec.kind === 'flaky' && n < 3) throw new Error(`record ${rec.id} not yet`)
        processed.add(rec.id)
      },
    })
    await waitFor(() => consumer.metrics().deadLettered >= 15 && processed.size >= 10_005, 90_000)
    await consumer.stop()

    expect(processed.size).toBe(10_005)
    const m = consumer.metrics()
    expect(m.deadLettered).toBe(15)
    // 5 always-failing x 2 retries + 5 flaky x 2 retries
    expect(m.retries).toBe(20)
    const dead = await readAll(dlq, 15)
    expect(dead.length).toBe(15)
    const undecodable = dead.filter((d) => d.value?.toString() === '{not json')
    expect(undecodable.length).toBe(10)
    for (const d of undecodable) {
      expect(d.headers[DLQ_HEADERS.errorCode]?.toString()).toBe('DESERIALIZATION')
      expect(d.headers[DLQ_HEADERS.attempts]?.toString()).toBe('0')
      expect(d.headers.trace?.toString()).toMatch(/^t\d+$/)
      expect(d.key?.toString()).toMatch(/^bad\d+$/)
      const hops = d.all.hop
      expect(Array.isArray(hops)).toBe(true)
      expect((hops as Buffer[]).map(String)).toEqual(['a', 'b', `c${d.key!.toString().slice(3)}`])
    }
    const poison = dead.filter((d) => d.value?.toString() !== '{not json')
    expect(poison.length).toBe(5)
    for (const d of dead) {
      expect(d.headers[DLQ_HEADERS.topic]?.toString()).toBe(topic)
      expect(d.headers[DLQ_HEADERS.partition]?.toString()).toMatch(/^[01]$/)
      expect(d.headers[DLQ_HEADERS.offset]?.toString()).toMatch(/^\d+$/)
      expect(d.headers[DLQ_HEADERS.timestamp]?.toString()).toMatch(/^\d{13}$/)
      expect(d.headers[DLQ_HEADERS.group]?.toString()).toBe(groupId)
      expect(d.headers[DLQ_HEADERS.errorMessage]?.toString().length).toBeGreaterThan(0)
    }
    for (const d of poison) {
      expect(d.headers[DLQ_HEADERS.errorName]?.toString()).toBe('TypeError')
      expect(d.headers[DLQ_HEADERS.errorMessage]?.toString()).toMatch(/is poison/)
      expect(d.headers[DLQ_HEADERS.attempts]?.toString()).toBe('3')
      expect(JSON.parse(d.value!.toString()).kind).toBe('fail')
    }
    const admin = createAdmin({ brokers: brokers(), logger: quietLogger() })
    try {
      expect((await admin.lag({ groupId, topic })).total).toBe(0)
    } finally {
      await admin.disconnect()
    }
  })

  it('without a dead-letter topic a failing record stops the consumer with HANDLER_FAILED and stays uncommitted', async () => {
    const topic = uniqueName('fatal')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, ['a', 'b', 'poison', 'd'].map((value) => ({ value })))
    const calls: string[] = []
    const consumer = createConsumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      commit: { strategy: 'per-message' },
      retry: { attempts: 2, backoffMs: 10 },
      ...fast,
    })
    open.push(consumer as Consumer<unknown, unknown>)
    const errors: KafkatuneError[] = []
    consumer.on('error', (e) => void errors.push(e))
    await consumer.connect()
    await consumer.run({
      eachMessage: async ({ value }) => {
        calls.push(value!)
        if (value === 'poison') throw new Error('boom')
      },
    })
    const err = await consumer.stopped().then(
      () => null,
      (e: unknown) => e,
    )
    expect(isKafkatuneError(err, 'HANDLER_FAILED')).toBe(true)
    expect((err as KafkatuneError).details).toMatchObject({ topic, partition: 0, offset: '2', attempts: 2 })
    expect(((err as KafkatuneError).cause as Error).message).toBe('boom')
    expect(errors).toHaveLength(1)
    // No crash loop: two calls for the poison record, nothing after it, nothing silently skipped.
    expect(calls).toEqual(['a', 'b', 'poison', 'poison'])
    expect((await committed(groupId, topic)).get(0)).toBe('2')
  })

  it('an undecodable record without a dead-letter topic stops the consumer with DESERIALIZATION', async () => {
    const topic = uniqueName('undecodable')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, [{ value: '{"ok":1}' }, { value: 'nope' }])
    const consumer = createConsumer<string, unknown>({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      valueDeserializer: serializers.json(),
      commit: { strategy: 'per-message' },
      ...fast,
    })
    open.push(consumer as Consumer<unknown, unknown>)
    let handled = 0
    await consumer.connect()
    await consumer.run({ eachMessage: async () => void handled++ })
    const err = await consumer.stopped().then(() => null, (e: unknown) => e)
    expect(isKafkatuneError(err, 'DESERIALIZATION')).toBe(true)
    expect(handled).toBe(1)
    expect((await committed(groupId, topic)).get(0)).toBe('1')
  })
})
