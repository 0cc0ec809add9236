/**
 * Pipeline tuning takes effect: retries and a dead-letter topic (inside the transaction of the input offset),
 * the output partitioner, the partition assignor.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Consumer } from 'kafkajs'
import { createPipeline } from '../../src/index.js'
import type { Pipeline } from '../../src/pipeline/index.js'
import { DLQ_HEADERS } from '../../src/consumer/index.js'
import { partitionForKey } from '../../src/partitioners/index.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const running: Pipeline[] = []
const readers: Consumer[] = []
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((p) => p.stop()))
  await Promise.allSettled(readers.splice(0).map((c) => c.disconnect()))
})

type Read = { partition: number; key: string | null; value: string; headers: Record<string, string> }

async function readCommitted(topic: string, expected: number, timeoutMs = 60_000): Promise<Read[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('reader'), readUncommitted: false, maxWaitTimeInMs: 200 })
  readers.push(consumer)
  const out: Read[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
      out.push({ partition, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers })
    },
  })
  await waitFor(() => out.length >= expected, timeoutMs, 100)
  return out
}

const base = { logger: quietLogger(), consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollRecords: 5, fetchMaxWaitMs: 100 } }

describe('pipeline options take effect', () => {
  it('retry and deadLetterTopic: a flaky record succeeds on retry, a poison record goes to the DLQ in the same transaction', async () => {
    const [input, output, dlq] = [uniqueName('po-in'), uniqueName('po-out'), uniqueName('po-dlq')]
    for (const t of [input, output, dlq]) await createTopic(t, 1)
    const groupId = uniqueName('po-g')
    await produce(input, Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: String(i), headers: { trace: `t${i}` } })))
    const calls = new Map<string, number>()
    const pipeline = createPipeline({
      ...base,
      brokers: brokers(),
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('po-tx'),
      consumer: { ...base.consumer, retry: { attempts: 3, backoffMs: 10 }, deadLetterTopic: dlq },
      transform: (msg) => {
        const v = msg.value ?? ''
        calls.set(v, (calls.get(v) ?? 0) + 1)
        if (v === '7') throw new Error('poison record')
        if (v === '3' && calls.get(v) === 1) throw new Error('flaky once')
        return { key: msg.key, value: `out:${v}` }
      },
    })
    running.push(pipeline)
    await pipeline.run()
    await waitFor(async () => (await committed(groupId, input)).get(0) === '20', 60_000, 200)
    const out = await readCommitted(output, 19)
    expect(out.map((r) => r.value).sort()).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7).map((i) => `out:${i}`).sort())
    const dead = await readCommitted(dlq, 1)
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ key: 'k7', value: '7' })
    expect(dead[0]!.headers).toMatchObject({ trace: 't7', [DLQ_HEADERS.offset]: '7', [DLQ_HEADERS.errorCode]: 'HANDLER_FAILED', [DLQ_HEADERS.errorMessage]: 'poison record', [DLQ_HEADERS.attempts]: '3' })
    expect(calls.get('7')).toBe(3)
    expect(calls.get('3')).toBe(2)
    expect(pipeline.metrics()).toMatchObject({ deadLettered: 1, transformRetries: 3, inputRecords: 20 })
  })

  it('without a dead-letter topic a poison record stops the pipeline; nothing of its chunk is committed', async () => {
    const [input, output] = [uniqueName('po2-in'), uniqueName('po2-out')]
    for (const t of [input, output]) await createTopic(t, 1)
    const groupId = uniqueName('po2-g')
    await produce(input, Array.from({ length: 10 }, (_, i) => ({ value: String(i) })))
    const pipeline = createPipeline({
      ...base,
      brokers: brokers(),
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('po2-tx'),
      consumer: { ...base.consumer, retry: { attempts: 2, backoffMs: 10 } },
      transform: (msg) => {
        if (msg.value === '6') throw new Error('poison record')
        return { value: msg.value ?? '' }
      },
    })
    await pipeline.run()
    const err = await pipeline.stopped().then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'HANDLER_FAILED' })
    expect((await committed(groupId, input)).get(0)).toBe('5')
  })

  it('partitioner: the output partition follows the producer partitioner', async () => {
    const [input, outDefault, outRr] = [uniqueName('pp-in'), uniqueName('pp-out-d'), uniqueName('pp-out-rr')]
    await createTopic(input, 1)
    await createTopic(outDefault, 4)
    await createTopic(outRr, 4)
    await produce(input, Array.from({ length: 40 }, (_, i) => ({ key: `key-${i % 5}`, value: String(i) })))
    for (const [to, partitioner] of [
      [outDefault, 'default'],
      [outRr, 'round-robin'],
    ] as const) {
      const pipeline = createPipeline({
        ...base,
        brokers: brokers(),
        groupId: uniqueName('pp-g'),
        from: input,
        to,
        transactionalIdPrefix: uniqueName('pp-tx'),
        producer: { partitioner },
        transform: (msg) => ({ key: msg.key, value: msg.value ?? '' }),
      })
      running.push(pipeline)
      await pipeline.run()
    }
    const byKey = await readCommitted(outDefault, 40)
    for (const r of byKey) expect(r.partition).toBe(partitionForKey(Buffer.from(r.key!), 4))
    const rr = await readCommitted(outRr, 40)
    const perPartition = [0, 1, 2, 3].map((p) => rr.filter((r) => r.partition === p).length)
    // Round-robin spreads each key over several partitions; murmur2 never does.
    expect(perPartition.every((n) => n > 0)).toBe(true)
    expect(new Set(rr.filter((r) => r.key === 'key-0').map((r) => r.partition)).size).toBeGreaterThan(1)
  })

  it('partitionAssignors: the group runs the assignor the pipeline names', async () => {
    const input = uniqueName('pa-in')
    await createTopic(input, 2)
    const groupId = uniqueName('pa-g')
    const pipeline = createPipeline({
      ...base,
      brokers: brokers(),
      groupId,
      from: input,
      to: uniqueName('pa-out'),
      transactionalIdPrefix: uniqueName('pa-tx'),
      consumer: { ...base.consumer, partitionAssignors: ['sticky'] },
      transform: () => null,
    })
    running.push(pipeline)
    await pipeline.run()
    const admin = testKafka().admin()
    await admin.connect()
    try {
      await waitFor(async () => (await admin.describeGroups([groupId])).groups[0]?.state === 'Stable', 30_000, 200)
      expect((await admin.describeGroups([groupId])).groups[0]?.protocol).toBe('sticky')
    } finally {
      await admin.disconnect()
    }
  })
})
