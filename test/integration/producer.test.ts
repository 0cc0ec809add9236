/**
 * createProducer against the shared real broker: offsets, batching triggers, flush/disconnect,
 * per-record failures, ordering, memory bounds, transactions and fencing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import type { Admin, Consumer, KafkaMessage } from 'kafkajs'
import { resolveProducerConfig } from '../../src/config/index.js'
import { createProducer } from '../../src/producer/index.js'
import type { Producer, RecordMetadata } from '../../src/producer/index.js'
import { serializers } from '../../src/serde/index.js'
import { KafkatuneError } from '../../src/errors.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

const logger = pino({ level: 'silent' })
let admin: Admin
const open: (Producer<any, any> | Consumer)[] = []

beforeAll(async () => {
  admin = testKafka().admin()
  await admin.connect()
})

afterAll(async () => {
  await Promise.all(open.map((c) => c.disconnect().catch(() => undefined)))
  await admin?.disconnect()
})

function producer<K = string, V = string>(options: Partial<Parameters<typeof createProducer<K, V>>[0]> = {}): Producer<K, V> {
  const p = createProducer<K, V>({ brokers: brokers(), logger, ...options } as Parameters<typeof createProducer<K, V>>[0])
  open.push(p)
  return p
}

async function readAll(topic: string, count: number, readCommitted = false): Promise<KafkaMessage[] & { partitions: number[] }> {
  const consumer = testKafka().consumer({ groupId: uniqueName('g'), readUncommitted: !readCommitted, maxWaitTimeInMs: 100 })
  open.push(consumer)
  const seen: KafkaMessage[] & { partitions: number[] } = Object.assign([], { partitions: [] as number[] })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      seen.push(message)
      seen.partitions.push(partition)
    },
  })
  await waitFor(() => seen.length >= count, 30_000)
  await consumer.disconnect()
  return seen
}

async function endOffsets(topic: string): Promise<number[]> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high))
}

describe('createProducer (real broker)', () => {
  it.each([
    ['defaults (idempotent)', { lingerMs: 5 }],
    ['high-throughput (lz4, acks 1, 5 requests in flight)', { preset: 'high-throughput', batchSize: 4096, lingerMs: 1 }],
  ] as const)('gives every record its own dense offset and keeps same-key order: %s', async (_label, options) => {
    const topic = uniqueName('p-offsets')
    await createTopic(topic, 3)
    const p = producer(options as never)
    await p.connect()
    const sends: Promise<RecordMetadata>[] = []
    for (let i = 0; i < 3000; i++) sends.push(p.send({ topic, key: `k${i % 7}`, value: `${i}` }))
    const mds = await Promise.all(sends)
    const perPartition = new Map<number, number[]>()
    for (const md of mds) {
      expect(md.topic).toBe(topic)
      perPartition.set(md.partition, [...(perPartition.get(md.partition) ?? []), Number(md.offset)])
    }
    const ends = await endOffsets(topic)
    for (const [partition, offsets] of perPartition) {
      expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: offsets.length }, (_, i) => i))
      expect(ends[partition]).toBe(offsets.length)
    }
    // Same key: same partition, increasing offsets in send order, and the broker holds record i at md[i].offset.
    const seen = await readAll(topic, 3000)
    const valueAt = new Map<string, string>()
    seen.forEach((m, i) => valueAt.set(`${seen.partitions[i]}:${m.offset}`, m.value!.toString()))
    mds.forEach((md, i) => expect(valueAt.get(`${md.partition}:${md.offset}`)).toBe(`${i}`))
    for (let k = 0; k < 7; k++) {
      const ofKey = mds.filter((_, i) => i % 7 === k)
      expect(new Set(ofKey.map((m) => m.partition)).size).toBe(1)
      const offs = ofKey.map((m) => Number(m.offset))
      expect(offs).toEqual([...offs].sort((a, b) => a - b))
    }
    const m = p.metrics()
    expect(m.recordsSent).toBe(3000)
    expect(m.batchRecordsAvg).toBeGreaterThan(1)
    expect(m.requestLatencyP99Ms).toBeGreaterThan(0)
    expect(m.bufferBytesInUse).toBe(0)
    await p.disconnect()
  })

  it('sends a batch once batchSize is reached while a partial batch lingers until flush()', async () => {
    const topic = uniqueName('p-batch')
    await createTopic(topic, 1)
    const p = producer({ lingerMs: 60_000, batchSize: 1024 })
    await p.connect()
    const settled: boolean[] = []
    const sends = Array.from({ length: 25 }, (_, i) => {
      settled[i] = false
      return p.send({ topic, value: 'x'.repeat(100) }).then((md) => {
        settled[i] = true
        return md
      })
    })
    // 8 records of ~121 bytes fill a 1 KiB batch: the first ones are acknowledged without any flush.
    await sends[0]
    expect(settled[24]).toBe(false)
    await p.flush()
    expect(settled.every(Boolean)).toBe(true)
    const mds = await Promise.all(sends)
    expect(mds.map((m) => Number(m.offset))).toEqual(Array.from({ length: 25 }, (_, i) => i))
    expect(p.metrics().requests).toBeGreaterThanOrEqual(2)
    await p.disconnect()
  })

  it('lingers: records sent together within lingerMs go out as one batch', async () => {
    const topic = uniqueName('p-linger')
    await createTopic(topic, 1)
    const p = producer({ lingerMs: 300, batchSize: 1_000_000 })
    await p.connect()
    await p.send({ topic, value: 'warm-up' })
    const before = p.metrics().requests
    await Promise.all(Array.from({ length: 50 }, (_, i) => p.send({ topic, value: `v${i}` })))
    const m = p.metrics()
    expect(m.requests - before).toBe(1)
    expect(m.batchRecordsMax).toBe(50)
    await p.disconnect()
  })

  it('waits for metadata of a topic it has not seen, auto-creating it like the Java client', async () => {
    const topic = uniqueName('p-auto')
    const p = producer({ lingerMs: 0 })
    await p.connect()
    const [a, b] = await Promise.all([p.send({ topic, key: 'k', value: '1' }), p.send({ topic, key: 'k', value: '2' })])
    expect([a.offset, b.offset]).toEqual(['0', '1'])
    await p.disconnect()
  })

  it('lingerMs 0 still batches what is sent in one tick', async () => {
    const topic = uniqueName('p-linger0')
    await createTopic(topic, 1)
    const p = producer({ lingerMs: 0 })
    await p.connect()
    await p.send({ topic, value: 'warm-up' })
    await Promise.all(Array.from({ length: 100 }, (_, i) => p.send({ topic, value: `v${i}` })))
    expect(p.metrics().batchRecordsMax).toBe(100)
    await p.disconnect()
  })

  it('disconnect() flushes lingering records first', async () => {
    const topic = uniqueName('p-disc')
    await createTopic(topic, 2)
    const p = producer({ lingerMs: 60_000 })
    await p.connect()
    const sends = Array.from({ length: 10 }, (_, i) => p.send({ topic, key: `${i}`, value: `v${i}` }))
    await p.disconnect()
    const mds = await Promise.all(sends)
    expect(mds).toHaveLength(10)
    expect((await endOffsets(topic)).reduce((a, b) => a + b, 0)).toBe(10)
    await expect(p.send({ topic, value: 'late' })).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('rejects an oversize record at once with RECORD_TOO_LARGE while the others are written', async () => {
    const topic = uniqueName('p-large')
    await createTopic(topic, 1)
    const p = producer({ maxRequestSize: 10_000, lingerMs: 20 })
    await p.connect()
    const small1 = p.send({ topic, value: 'a' })
    const big = p.send({ topic, value: 'x'.repeat(20_000) })
    const small2 = p.send({ topic, value: 'b' })
    await expect(big).rejects.toSatisfy((e: unknown) => e instanceof KafkatuneError && e.code === 'RECORD_TOO_LARGE' && !e.retriable)
    const [a, b] = await Promise.all([small1, small2])
    expect([a.offset, b.offset]).toEqual(['0', '1'])
    expect(p.metrics().errors.RECORD_TOO_LARGE).toBe(1)
    await p.disconnect()
  })

  it.each([
    { name: 'idempotent', options: {} },
    // Without idempotence the broker cannot drop a resent copy: the partitions it accepted must not be resent.
    { name: 'not idempotent (acks 1)', options: { acks: 1 as const } },
  ])('a request the broker partly refuses rejects exactly the records that failed ($name)', async ({ options }) => {
    const topic = uniqueName('p-partial')
    // The broker refuses batches over 2,000 bytes on this topic; the client-side limit is much larger.
    await createTopic(topic, 2, { 'max.message.bytes': '2000' })
    const p = producer({ lingerMs: 50, ...options })
    expect(resolveProducerConfig({ brokers: brokers(), ...options }).idempotent).toBe(options.acks === undefined)
    await p.connect()
    const big = p.send({ topic, partition: 0, value: 'x'.repeat(3000) })
    const small = Array.from({ length: 5 }, (_, i) => p.send({ topic, partition: 1, value: `ok-${i}` }))
    await expect(big).rejects.toSatisfy((e: unknown) => e instanceof KafkatuneError && e.code === 'RECORD_TOO_LARGE' && e.message.includes(`${topic}[0]`))
    const mds = await Promise.all(small)
    expect(mds.map((m) => [m.partition, m.offset])).toEqual([0, 1, 2, 3, 4].map((i) => [1, String(i)]))
    expect(await endOffsets(topic)).toEqual([0, 5])
    await p.disconnect()
  })

  it('a serializer error rejects only that send, naming topic and serializer', async () => {
    const topic = uniqueName('p-serde')
    await createTopic(topic, 1)
    const p = producer<string, unknown>({ valueSerializer: serializers.json() })
    await p.connect()
    const ok = p.send({ topic, value: { n: 1 } })
    const bad = p.send({ topic, value: { n: 1n } })
    await expect(bad).rejects.toSatisfy(
      (e: unknown) => e instanceof KafkatuneError && e.code === 'SERIALIZATION' && e.message.includes(topic) && e.message.includes('json'),
    )
    expect((await ok).offset).toBe('0')
    await p.disconnect()
  })

  it('a bad timestamp or header rejects only that send: the records batched around it are written', async () => {
    const topic = uniqueName('p-bad-record')
    await createTopic(topic, 1)
    // Linger long enough that every record of a round would share one batch.
    const p = producer({ lingerMs: 50, acks: 1, idempotent: false })
    await p.connect()
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ timestamp: 'abc' }, /timestamp 'abc'/],
      [{ timestamp: 1.5 }, /timestamp 1\.5/],
      [{ timestamp: 2 ** 60 }, /integer number of ms/],
      [{ headers: { a: 5 } }, /header 'a' must be a Buffer, a string or null/],
      [{ headers: { a: ['x', { y: 1 }] } }, /header 'a'.*got object/],
    ]
    for (const [fields, message] of bad) {
      const round = [p.send({ topic, value: 'before' }), p.send({ topic, value: 'bad', ...fields } as never), p.send({ topic, value: 'after' })]
      const settled = await Promise.allSettled(round)
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      const err = (settled[1] as PromiseRejectedResult).reason
      expect(err).toBeInstanceOf(KafkatuneError)
      expect(err.code).toBe('CONFIG_INVALID')
      expect(err.message).toMatch(message)
    }
    const stamped = await p.send({ topic, value: 'string time', timestamp: '1700000000123' })
    expect(stamped.timestamp).toBe('1700000000123')
    await p.disconnect()
    expect(await endOffsets(topic)).toEqual([bad.length * 2 + 1])
  })

  it('keeps buffer use within bufferMemory under a fast producer', async () => {
    const topic = uniqueName('p-memory')
    await createTopic(topic, 3)
    const bufferMemory = 64 * 1024
    const p = producer({ bufferMemory, lingerMs: 5, batchSize: 16_384 })
    await p.connect()
    let peak = 0
    const value = 'v'.repeat(200)
    const sends: Promise<RecordMetadata>[] = []
    const sampler = setInterval(() => (peak = Math.max(peak, p.metrics().bufferBytesInUse)), 1)
    for (let i = 0; i < 20_000; i++) {
      sends.push(p.send({ topic, value }))
      peak = Math.max(peak, p.metrics().bufferBytesInUse)
    }
    await Promise.all(sends)
    clearInterval(sampler)
    expect(peak).toBeGreaterThan(bufferMemory / 2)
    expect(peak).toBeLessThanOrEqual(bufferMemory)
    expect((await endOffsets(topic)).reduce((a, b) => a + b, 0)).toBe(20_000)
    await p.disconnect()
  })

  it('compresses with lz4 and the records read back intact', async () => {
    const topic = uniqueName('p-lz4')
    await createTopic(topic, 1)
    const p = producer({ compression: 'lz4', lingerMs: 10 })
    await p.connect()
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.send({ topic, value: `value-${i}`.repeat(10) })))
    const seen = await readAll(topic, 200)
    expect(seen.map((m) => m.value!.toString())).toEqual(Array.from({ length: 200 }, (_, i) => `value-${i}`.repeat(10)))
    await p.disconnect()
  })
})

describe('transactions (real broker)', () => {
  it('committed records are visible to read_committed, aborted ones never', async () => {
    const topic = uniqueName('p-tx')
    await createTopic(topic, 2)
    const p = producer({ preset: 'exactly-once', transactionalId: uniqueName('tx') } as never)
    await p.connect()
    await expect(p.send({ topic, value: 'outside' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    const boom = new Error('boom')
    await expect(
      p.transaction(async (tx) => {
        await Promise.all(Array.from({ length: 20 }, (_, i) => tx.send({ topic, key: `${i}`, value: `aborted-${i}` })))
        throw boom
      }),
    ).rejects.toBe(boom)
    const result = await p.transaction(async (tx) => {
      // Not awaited one by one: the commit flushes them.
      for (let i = 0; i < 20; i++) void tx.send({ topic, key: `${i}`, value: `committed-${i}` })
      return 'done'
    })
    expect(result).toBe('done')
    const seen = await readAll(topic, 20, true)
    const values = seen.map((m) => m.value!.toString())
    expect(values.filter((v) => v.startsWith('aborted'))).toEqual([])
    expect(values.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `committed-${i}`).sort())
    // read_uncommitted sees the aborted records too: the abort really wrote and then aborted them.
    const all = await readAll(topic, 40, false)
    expect(all.filter((m) => m.value!.toString().startsWith('aborted'))).toHaveLength(20)
    await p.disconnect()
  })

  it('sendOffsets commits consumer offsets with the transaction', async () => {
    const topic = uniqueName('p-txoff')
    const groupId = uniqueName('g-txoff')
    await createTopic(topic, 1)
    const p = producer({ preset: 'exactly-once', transactionalId: uniqueName('tx') } as never)
    await p.connect()
    await p.transaction(async (tx) => {
      await tx.send({ topic, value: 'x' })
      await tx.sendOffsets({ consumerGroupId: groupId, offsets: [{ topic, partition: 0, offset: '42' }] })
    })
    // The coordinator applies transactional offsets when it writes the commit marker, just after EndTxn.
    let offset: string | undefined
    await waitFor(async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
      offset = committed[0]?.partitions[0]?.offset
      return offset === '42'
    }, 10_000).catch(() => undefined)
    expect(offset).toBe('42')
    await p.disconnect()
  })

  it('a transaction whose sendOffsets fails is aborted and the producer stays usable', async () => {
    const topic = uniqueName('p-txfail')
    await createTopic(topic, 1)
    const p = producer({ preset: 'exactly-once', transactionalId: uniqueName('tx'), kafkajs: { retry: { retries: 1, initialRetryTime: 50 } } } as never)
    await p.connect()
    await expect(
      p.transaction(async (tx) => {
        await tx.send({ topic, value: 'doomed' })
        // Offsets of a topic that does not exist: the coordinator refuses them.
        await tx.sendOffsets({ consumerGroupId: uniqueName('g'), offsets: [{ topic: uniqueName('missing'), partition: 0, offset: 1 }] })
      }),
    ).rejects.toMatchObject({ code: 'KAFKA' })
    await p.transaction(async (tx) => {
      await tx.send({ topic, value: 'after' })
    })
    const seen = await readAll(topic, 1, true)
    expect(seen.map((m) => m.value!.toString())).toEqual(['after'])
    await p.disconnect()
  })

  it('transactions started side by side run one after the other and all commit', async () => {
    const topic = uniqueName('p-txqueue')
    await createTopic(topic, 1)
    const p = producer({ preset: 'exactly-once', transactionalId: uniqueName('tx') } as never)
    await p.connect()
    await p.transaction(async (tx) => void (await tx.send({ topic, value: 'outer' })))
    // Two transactions started side by side (not nested) still run one after the other.
    await Promise.all(['first', 'second'].map((value) => p.transaction(async (tx) => void (await tx.send({ topic, value })))))
    const seen = await readAll(topic, 3, true)
    expect(seen.map((m) => m.value!.toString()).sort()).toEqual(['first', 'outer', 'second'])
    await p.disconnect()
  })

  it('a zombie with the same transactionalId is fenced and never writes again', async () => {
    const topic = uniqueName('p-fence')
    await createTopic(topic, 1)
    const transactionalId = uniqueName('tx-fence')
    const zombie = producer({ preset: 'exactly-once', transactionalId } as never)
    await zombie.connect()
    await zombie.transaction(async (tx) => {
      await tx.send({ topic, value: 'zombie-1' })
    })
    const successor = producer({ preset: 'exactly-once', transactionalId } as never)
    await successor.connect()
    await successor.transaction(async (tx) => {
      await tx.send({ topic, value: 'successor-1' })
    })
    await expect(
      zombie.transaction(async (tx) => {
        await tx.send({ topic, value: 'zombie-2' })
      }),
    ).rejects.toMatchObject({ code: 'FENCED' })
    await expect(zombie.transaction(async () => undefined)).rejects.toMatchObject({ code: 'FENCED' })
    await successor.transaction(async (tx) => {
      await tx.send({ topic, value: 'successor-2' })
    })
    const seen = await readAll(topic, 3, true)
    expect(seen.map((m) => m.value!.toString())).toEqual(['zombie-1', 'successor-1', 'successor-2'])
    await successor.disconnect()
  })

  it('reports the create time the broker stored: explicit timestamps as given, others stamped at dispatch', async () => {
    const topic = uniqueName('p-ts')
    await createTopic(topic, 1)
    const p = producer({ lingerMs: 20 })
    await p.connect()
    const before = Date.now()
    const implicit = await Promise.all([p.send({ topic, value: 'a' }), p.send({ topic, value: 'b' })])
    const explicit = await p.send({ topic, value: 'c', timestamp: 1_700_000_000_123 })
    await p.disconnect()
    const stored = await readAll(topic, 3)
    const byValue = new Map(stored.map((m) => [m.value!.toString(), m.timestamp]))
    expect(byValue.get('a')).toBe(implicit[0]!.timestamp)
    expect(byValue.get('b')).toBe(implicit[1]!.timestamp)
    expect(byValue.get('c')).toBe('1700000000123')
    expect(explicit.timestamp).toBe('1700000000123')
    expect(Number(implicit[0]!.timestamp)).toBeGreaterThanOrEqual(before)
    expect(Number(implicit[0]!.timestamp)).toBeLessThanOrEqual(Date.now())
  })
})

describe('fire-and-forget failures before a batch', () => {
  it("emit 'producer.error' (SERIALIZATION, RECORD_TOO_LARGE) as failed batches do, and count in metrics", async () => {
    const topic = uniqueName('ff')
    await createTopic(topic, 1)
    const p = producer<string, string>({
      maxRequestSize: 10_000,
      valueSerializer: {
        name: 'picky',
        serialize: (v: string) => {
          if (v === 'bad') throw new Error('cannot encode bad')
          return Buffer.from(v)
        },
        deserialize: (b: Buffer) => b.toString(),
      },
    })
    const events: { code: string; topic: string; partition: number }[] = []
    p.on('producer.error', (e) => void events.push({ code: e.error.code, topic: e.topic, partition: e.partition }))
    await p.connect()
    void p.send({ topic, value: 'bad' })
    void p.send({ topic, value: 'x'.repeat(20_000) })
    await p.send({ topic, value: 'fine' })
    await waitFor(() => events.length >= 2, 10_000)
    expect(events).toEqual([
      { code: 'SERIALIZATION', topic, partition: -1 },
      { code: 'RECORD_TOO_LARGE', topic, partition: -1 },
    ])
    expect(p.metrics().errors).toMatchObject({ SERIALIZATION: 1, RECORD_TOO_LARGE: 1 })
  })
})
