/**
 * Producer behaviour when the broker goes away, on a broker of its own (killed and restarted here):
 * delivery timeout, buffer exhaustion, and no loss / duplicates / reordering across a broker restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { Kafka, logLevel } from 'kafkajs'
import type { KafkaMessage } from 'kafkajs'
import { startKafka } from '../../src/testing/index.js'
import type { KafkaHandle } from '../../src/testing/index.js'
import { createProducer } from '../../src/producer/index.js'
import type { Producer, RecordMetadata } from '../../src/producer/index.js'
import { KafkatuneError } from '../../src/errors.js'
import { uniqueName, waitFor } from '../helpers/kafka.js'

const logger = pino({ level: 'silent' })
let kafka: KafkaHandle
let client: Kafka
const producers: Producer[] = []

beforeAll(async () => {
  kafka = await startKafka({ mode: 'local', nodes: 1 })
  client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING })
})

afterAll(async () => {
  await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)))
  await kafka?.stop()
})

async function topicWith(partitions: number): Promise<string> {
  const topic = uniqueName('faults')
  const admin = client.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}

async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = client.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 100 })
  const seen: KafkaMessage[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) })
    await waitFor(() => seen.length >= count, 60_000)
    return seen
  } finally {
    await consumer.disconnect()
  }
}

/** An idempotent producer with 5 batches in flight per partition and short timeouts, connected. */
async function pipelinedProducer(batchSize: number): Promise<Producer> {
  const p = createProducer({
    brokers: kafka.brokers,
    logger,
    idempotent: true,
    maxInFlightRequests: 5,
    lingerMs: 1,
    batchSize,
    compression: 'none',
    requestTimeoutMs: 1_500,
    deliveryTimeoutMs: 120_000,
    retryBackoffMs: 50,
    retryBackoffMaxMs: 500,
  })
  producers.push(p)
  await p.connect()
  return p
}

function settle<T>(p: Promise<T>): Promise<{ ok: T } | { err: KafkatuneError }> {
  return p.then(
    (ok) => ({ ok }),
    (err: KafkatuneError) => ({ err }),
  )
}

describe('producer faults (own broker)', () => {
  it('DELIVERY_TIMEOUT and BUFFER_EXHAUSTED while the broker is down, then recovers', async () => {
    const topic = await topicWith(1)
    const p = createProducer({
      brokers: kafka.brokers,
      logger,
      lingerMs: 0,
      requestTimeoutMs: 1_000,
      deliveryTimeoutMs: 3_000,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 300,
      bufferMemory: 8_192,
      batchSize: 4_096,
      maxBlockMs: 500,
    })
    producers.push(p)
    await p.connect()
    expect((await p.send({ topic, value: 'before' })).offset).toBe('0')

    await kafka.nodes[0]!.kill()
    const started = Date.now()
    const lone = settle(p.send({ topic, value: 'x'.repeat(1000) }))
    const flood = Array.from({ length: 20 }, () => settle(p.send({ topic, value: 'y'.repeat(1000) })))
    const [first, ...rest] = await Promise.all([lone, ...flood])
    expect('err' in first! && first.err.code).toBe('DELIVERY_TIMEOUT')
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500)
    const codes = rest.map((r) => ('err' in r ? r.err.code : 'ok'))
    // About 7 records fit in 8 KiB and time out; the ones that never got buffer space are refused.
    expect(codes.filter((c) => c === 'BUFFER_EXHAUSTED').length).toBeGreaterThan(5)
    expect(codes.filter((c) => c === 'DELIVERY_TIMEOUT').length).toBeGreaterThan(3)
    expect(codes).not.toContain('ok')
    const m = p.metrics()
    expect(m.errors.BUFFER_EXHAUSTED).toBeGreaterThan(5)
    expect(m.bufferBytesInUse).toBe(0)

    await kafka.nodes[0]!.start()
    // Same producer, no reconnect call: sends work again once the broker is back.
    let md: RecordMetadata | undefined
    await waitFor(async () => {
      const r = await settle(p.send({ topic, value: 'after' }))
      if ('ok' in r) md = r.ok
      return md !== undefined
    }, 60_000)
    expect(Number(md!.offset)).toBeGreaterThanOrEqual(1)
    await p.disconnect()
  })

  it('idempotent producer across a broker kill and restart: every acked record once, in order per key', async () => {
    const topic = await topicWith(3)
    const p = createProducer({
      brokers: kafka.brokers,
      logger,
      idempotent: true,
      lingerMs: 2,
      requestTimeoutMs: 2_000,
      deliveryTimeoutMs: 90_000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 500,
    })
    producers.push(p)
    await p.connect()
    const total = 3000
    const results: Promise<{ ok: RecordMetadata } | { err: KafkatuneError }>[] = []
    let killed = false
    for (let i = 0; i < total; i++) {
      results.push(settle(p.send({ topic, key: `k${i % 10}`, value: `${i}` })))
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5))
      if (i === total / 2) {
        await kafka.nodes[0]!.kill()
        killed = true
        void kafka.nodes[0]!.start()
      }
    }
    expect(killed).toBe(true)
    const outcomes = await Promise.all(results)
    const failed = outcomes.filter((o) => 'err' in o)
    expect(failed).toEqual([])
    expect(p.metrics().retries).toBeGreaterThan(0)
    const admin = client.admin()
    await admin.connect()
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
    // No duplicates written: the log holds exactly `total` records.
    expect(ends.reduce((s, o) => s + Number(o.high), 0)).toBe(total)
    const seen = await readAll(topic, total)
    const values = seen.map((m) => Number(m.value!.toString()))
    expect(new Set(values).size).toBe(total)
    expect(values.length).toBe(total)
    const lastPerKey = new Map<string, number>()
    for (const m of seen) {
      const k = m.key!.toString()
      const v = Number(m.value!.toString())
      expect(v).toBeGreaterThan(lastPerKey.get(k) ?? -1)
      lastPerKey.set(k, v)
    }
    await p.disconnect()
  })

  it('idempotent resend after a request timeout on a frozen broker: the broker drops the copy, nothing is written twice', async () => {
    const topic = await topicWith(1)
    const p = createProducer({
      brokers: kafka.brokers,
      logger,
      idempotent: true,
      lingerMs: 0,
      requestTimeoutMs: 1_500,
      deliveryTimeoutMs: 60_000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 500,
    })
    producers.push(p)
    await p.connect()
    const resets: string[] = []
    p.on('producer.reset', (e) => resets.push(JSON.stringify(e)))
    const timeouts: string[] = []
    p.on('producer.request', (e) => {
      if (e.error !== undefined) timeouts.push(e.error.message)
    })
    await Promise.all(Array.from({ length: 10 }, (_, i) => p.send({ topic, value: `warm-${i}` })))

    // Frozen broker: the first unit sits unread in its socket until the request times out; more records queue.
    await kafka.nodes[0]!.pause()
    const sends: Promise<RecordMetadata>[] = []
    try {
      for (let i = 0; i < 50; i++) sends.push(p.send({ topic, value: `a-${i}` }))
      await new Promise((r) => setTimeout(r, 200))
      for (let i = 0; i < 50; i++) sends.push(p.send({ topic, value: `b-${i}` }))
      await waitFor(() => timeouts.length > 0, 30_000)
    } finally {
      // Thawed, the broker writes the timed-out unit, then gets its resend (and the records queued behind it).
      await kafka.nodes[0]!.resume()
    }
    const mds = await Promise.all(sends)
    expect(new Set(mds.map((m) => m.offset)).size).toBe(100)
    const admin = client.admin()
    await admin.connect()
    const [end] = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
    expect(end?.high).toBe('110')
    expect(resets).toEqual([])
    const values = (await readAll(topic, 110)).map((m) => m.value!.toString())
    expect(values).toEqual([...Array.from({ length: 10 }, (_, i) => `warm-${i}`), ...Array.from({ length: 50 }, (_, i) => `a-${i}`), ...Array.from({ length: 50 }, (_, i) => `b-${i}`)])
    await p.disconnect()
  })

  it('idempotent producer with 5 batches in flight per partition, through a frozen broker, request timeouts and a kill: 0 lost, 0 duplicated, 0 reordered', async () => {
    // One partition: every request carries that partition's batch, so overlapping requests are batches in flight together.
    const topic = await topicWith(1)
    const p = await pipelinedProducer(4096)
    const spans: { start: number; end: number; failed: boolean }[] = []
    const errors = new Map<string, number>()
    p.on('producer.request', (e) => {
      const end = Date.now()
      spans.push({ start: end - e.durationMs, end, failed: e.error !== undefined })
      if (e.error !== undefined) errors.set(String(e.error.details?.kafkaError ?? e.error.code), (errors.get(String(e.error.details?.kafkaError ?? e.error.code)) ?? 0) + 1)
    })
    const resets: string[] = []
    p.on('producer.reset', (e) => resets.push(e.reason))
    const total = 20_000
    const results: Promise<{ ok: RecordMetadata } | { err: KafkatuneError }>[] = []
    const faults: Promise<void>[] = []
    for (let i = 0; i < total; i++) {
      results.push(settle(p.send({ topic, value: `${i}` })))
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 2))
      if (i === 6_000) {
        // Frozen past the request timeout: requests in flight time out and are resent behind each other.
        faults.push(
          (async () => {
            await kafka.nodes[0]!.pause()
            await new Promise((r) => setTimeout(r, 3_000))
            await kafka.nodes[0]!.resume()
          })(),
        )
      }
      if (i === 14_000) {
        await Promise.all(faults)
        await kafka.nodes[0]!.kill()
        void kafka.nodes[0]!.start()
      }
    }
    const outcomes = await Promise.all(results)
    expect(outcomes.filter((o) => 'err' in o)).toEqual([])
    expect(spans.some((s) => s.failed)).toBe(true)
    // Pipelining happened: two requests of the one partition overlapped by more than clock rounding.
    let overlapping = 0
    const sorted = [...spans].sort((a, b) => a.start - b.start)
    for (let i = 1; i < sorted.length; i++) if ((sorted[i - 1] as { end: number }).end - (sorted[i] as { start: number }).start >= 2) overlapping++
    expect(overlapping).toBeGreaterThan(0)
    const admin = client.admin()
    await admin.connect()
    const [end] = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
    expect(end?.high).toBe(String(total))
    // Acknowledged offsets: each record its own, and where the broker told it, its place in the log.
    const offsets = outcomes.map((o) => ('ok' in o ? o.ok.offset : 'x'))
    for (const [i, off] of offsets.entries()) if (off !== '-1') expect(off).toBe(String(i))
    const values = (await readAll(topic, total)).map((m) => m.value!.toString())
    expect(values).toEqual(Array.from({ length: total }, (_, i) => `${i}`))
    await p.disconnect()
  })

  it('idempotent producer, requests carrying batches of 3 partitions, through a frozen broker: 0 lost, 0 duplicated, 0 reordered per partition', async () => {
    const topic = await topicWith(3)
    const p = await pipelinedProducer(2048)
    let multiPartition = 0
    let failed = 0
    p.on('producer.request', (e) => {
      if (e.batches > 1) multiPartition++
      if (e.error !== undefined) failed++
    })
    const total = 12_000
    const results: Promise<{ ok: RecordMetadata } | { err: KafkatuneError }>[] = []
    let freeze: Promise<void> | null = null
    for (let i = 0; i < total; i++) {
      results.push(settle(p.send({ topic, partition: i % 3, value: `${i % 3}:${Math.floor(i / 3)}` })))
      if (i % 150 === 149) await new Promise((r) => setTimeout(r, 2))
      if (i === 4_000) {
        freeze = (async () => {
          await kafka.nodes[0]!.pause()
          await new Promise((r) => setTimeout(r, 3_000))
          await kafka.nodes[0]!.resume()
        })()
      }
    }
    await freeze
    const outcomes = await Promise.all(results)
    expect(outcomes.filter((o) => 'err' in o)).toEqual([])
    expect(failed).toBeGreaterThan(0)
    expect(multiPartition).toBeGreaterThan(0)
    const admin = client.admin()
    await admin.connect()
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
    expect(ends.map((e) => e.high).sort()).toEqual(['4000', '4000', '4000'])
    const values = (await readAll(topic, total)).map((m) => m.value!.toString())
    for (let part = 0; part < 3; part++) {
      expect(values.filter((v) => v.startsWith(`${part}:`))).toEqual(Array.from({ length: total / 3 }, (_, i) => `${part}:${i}`))
    }
    await p.disconnect()
  })
})
