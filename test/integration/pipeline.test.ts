/**
 * Exactly-once consume-transform-produce across a SIGKILLed pipeline process: a read_committed
 * reader of the output sees every input exactly once.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { Consumer } from 'kafkajs'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { createPipeline } from '../../src/index.js'

const CHILD = fileURLToPath(new URL('../fixtures/pipeline-child.mjs', import.meta.url))
const children: ChildProcess[] = []
const consumers: Consumer[] = []

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)))
})

function startChild(cfg: object): { child: ChildProcess; processed: () => number; exited: Promise<number | null> } {
  const child = fork(CHILD, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.push(child)
  let processed = 0
  child.on('message', (m: { type: string; metrics?: { inputRecords: number } }) => {
    if (m.type === 'metrics' && m.metrics) processed = m.metrics.inputRecords
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, processed: () => processed, exited }
}

async function produceNumbers(topic: string, n: number): Promise<void> {
  // Idempotent: a whole-request resend after a partial NOT_LEADER answer would otherwise duplicate inputs.
  const producer = testKafka().producer({ idempotent: true })
  await producer.connect()
  for (let i = 0; i < n; i += 500) {
    const messages = Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ key: `k${(i + j) % 37}`, value: String(i + j) }))
    await producer.send({ topic, messages })
  }
  await producer.disconnect()
}

async function readCommitted(topic: string, until: (values: string[]) => boolean, timeoutMs: number): Promise<string[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('reader'), readUncommitted: false, maxWaitTimeInMs: 200 })
  consumers.push(consumer)
  const values: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value?.toString() ?? '')
    },
  })
  await waitFor(() => until(values), timeoutMs, 100)
  return values
}

describe('createPipeline exactly-once', () => {
  it('copies every input exactly once across a SIGKILLed member', async () => {
    const input = uniqueName('pipe-in')
    const output = uniqueName('pipe-out')
    const groupId = uniqueName('pipe-group')
    const prefix = uniqueName('pipe-tx')
    const N = 3000
    await createTopic(input, 3)
    await createTopic(output, 3)
    await produceNumbers(input, N)
    const cfg = { brokers: brokers(), groupId, from: input, to: output, prefix, sessionTimeoutMs: 6000, maxPollRecords: 20 }

    const first = startChild(cfg)
    await waitFor(() => first.processed() >= 300, 90_000, 20)
    first.child.kill('SIGKILL')
    await first.exited
    const processedBeforeKill = first.processed()
    expect(processedBeforeKill).toBeGreaterThanOrEqual(300)
    expect(processedBeforeKill).toBeLessThan(N)

    const second = startChild(cfg)
    const values = await readCommitted(output, (v) => v.length >= N, 120_000)
    second.child.kill('SIGTERM')
    await second.exited
    // Let any straggler arrive before counting: a duplicate would show up as more than N.
    const again = await readCommitted(output, (v) => v.length >= N, 60_000)

    for (const seen of [values, again]) {
      const unique = new Set(seen)
      expect(unique.size).toBe(N)
      expect(seen.length).toBe(N)
      for (let i = 0; i < N; i += 499) expect(unique.has(`copied:${i}`)).toBe(true)
    }
  })

  it('stops with a typed error and commits nothing when the transform throws', async () => {
    const input = uniqueName('pipe-fail-in')
    const output = uniqueName('pipe-fail-out')
    const groupId = uniqueName('pipe-fail-group')
    await createTopic(input, 1)
    await createTopic(output, 1)
    await produceNumbers(input, 10)
    const pipeline = createPipeline({
      brokers: brokers(),
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('pipe-fail-tx'),
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollRecords: 5 },
      transform: async (msg) => {
        if (msg.value === '7') throw new Error('bad record 7')
        return { value: msg.value ?? '' }
      },
    })
    const assigned: unknown[] = []
    const heard: unknown[] = []
    pipeline.on('pipeline.partitions-assigned', (tp) => assigned.push(tp))
    pipeline.on('pipeline.error', (e) => heard.push(e))
    await pipeline.run()
    const err = await pipeline.stopped().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ name: 'KafkatuneError', code: 'HANDLER_FAILED' })
    expect(heard).toEqual([err])
    expect(assigned[0]).toEqual({ [input]: [0] })
    // The chunk holding offset 7 (5..9) was aborted: only 0..4 are committed, in input and output.
    const admin = testKafka().admin()
    await admin.connect()
    const offsets = await admin.fetchOffsets({ groupId, topics: [input] })
    await admin.disconnect()
    expect(offsets[0]?.partitions[0]?.offset).toBe('5')
    const values = await readCommitted(output, (v) => v.length >= 5, 30_000)
    expect(values.sort()).toEqual(['0', '1', '2', '3', '4'])
  })

  it('keeps going when most transactions only commit offsets (sendOffsets first, CONCURRENT_TRANSACTIONS retried)', async () => {
    const input = uniqueName('pipe-filter-in')
    const output = uniqueName('pipe-filter-out')
    const groupId = uniqueName('pipe-filter-group')
    await createTopic(input, 1)
    await createTopic(output, 1)
    const N = 400
    await produceNumbers(input, N)
    const pipeline = createPipeline({
      brokers: brokers(),
      groupId,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('pipe-filter-tx'),
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollRecords: 10 },
      // Only every 100th record produces output: most transactions carry offsets alone.
      transform: (msg) => (Number(msg.value) % 100 === 0 ? { value: `kept:${msg.value}` } : null),
    })
    let failed: unknown
    pipeline.stopped().catch((e: unknown) => {
      failed = e
    })
    await pipeline.run()
    const admin = testKafka().admin()
    await admin.connect()
    try {
      await waitFor(async () => {
        if (failed) throw failed
        const offsets = await admin.fetchOffsets({ groupId, topics: [input] })
        return offsets[0]?.partitions[0]?.offset === String(N)
      }, 90_000, 200)
    } finally {
      await admin.disconnect()
      await pipeline.stop()
    }
    expect(failed).toBeUndefined()
    expect(pipeline.metrics().transactionsCommitted).toBeGreaterThanOrEqual(N / 10)
    // Kafka often answers CONCURRENT_TRANSACTIONS to the AddOffsetsToTxn right after a commit; the pipeline's
    // producers retry it inside the transaction (counted in transactionRetries, how often depends on the broker's
    // timing). None of those answers may cost a transaction: nothing was aborted.
    expect(pipeline.metrics().transactionsAborted).toBe(0)
    const values = await readCommitted(output, (v) => v.length >= 4, 30_000)
    expect(values.sort()).toEqual(['kept:0', 'kept:100', 'kept:200', 'kept:300'])
  })
})
