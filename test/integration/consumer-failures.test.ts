/**
 * Failure paths as a new user meets them: a consumer that died must say so, an unreachable broker and a
 * missing topic fail fast with typed errors, stop({ timeoutMs }) keeps its word, admin errors name the cause.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createAdmin } from '../../src/admin/index.js'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { KafkatuneError } from '../../src/errors.js'
import { createProducer } from '../../src/producer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { committed, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const UNWATCHED = fileURLToPath(new URL('../fixtures/unwatched-consumer.mjs', import.meta.url))
const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }
const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

/** A port nothing listens on: connections are refused at once. */
const DEAD_BROKER = ['127.0.0.1:1']

describe('consumer and admin failure paths', () => {
  it('a consumer that stops on an error nobody handles ends its process instead of looking healthy', async () => {
    const topic = uniqueName('unwatched')
    await createTopic(topic, 1)
    await produce(topic, [{ value: 'x' }])
    const child = spawn(process.execPath, [UNWATCHED, JSON.stringify({ brokers: brokers(), groupId: uniqueName('g'), topic })], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    clearTimeout(timer)
    expect(code).not.toBe(0)
    expect(code).not.toBeNull() // it ended by itself, not by the test's SIGKILL
    expect(stderr).toContain('HANDLER_FAILED')
    expect(stderr).toContain('downstream service unavailable')
  })

  it('an unreachable broker is one typed, retriable error from consumer, producer and admin alike', async () => {
    const consumer = createConsumer({ brokers: DEAD_BROKER, groupId: uniqueName('g'), topics: ['t'], logger: quietLogger(), kafkajs: { retry: { retries: 1, initialRetryTime: 50 } } })
    const producer = createProducer({ brokers: DEAD_BROKER, logger: quietLogger(), kafkajs: { retry: { retries: 1, initialRetryTime: 50 } } })
    const admin = createAdmin({ brokers: DEAD_BROKER, logger: quietLogger(), kafkajs: { retry: { retries: 1, initialRetryTime: 50 } } })
    const errors = await Promise.all([consumer.connect(), producer.connect(), admin.connect()].map((p) => p.then(() => null, (e: unknown) => e)))
    for (const err of errors) {
      expect(err).toBeInstanceOf(KafkatuneError)
      expect(err).toMatchObject({ code: 'KAFKA', retriable: true })
      expect((err as Error).message).toMatch(/ECONNREFUSED|connect/i)
    }
    await producer.disconnect().catch(() => undefined)
  })

  it('a missing topic fails run() at once with UNKNOWN_TOPIC', async () => {
    const missing = uniqueName('no-such-topic')
    const consumer = createConsumer({ brokers: brokers(), groupId: uniqueName('g'), topics: [missing], logger: quietLogger(), ...fast })
    open.push(consumer as Consumer<unknown, unknown>)
    await consumer.connect()
    const started = Date.now()
    const err = await consumer.run({ eachMessage: async () => {} }).then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'UNKNOWN_TOPIC', retriable: false })
    expect((err as Error).message).toContain(missing)
    // "At once" is a broker round trip, not the ~21 s of retries it used to take (a loose bound, not a benchmark).
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('stop({ timeoutMs }) returns in time, aborts the handler and never commits what it finishes afterwards', async () => {
    const topic = uniqueName('stop-deadline')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    await produce(topic, [{ value: 'a' }, { value: 'b' }])
    const consumer = createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', commit: { strategy: 'per-message' }, ...fast })
    open.push(consumer as Consumer<unknown, unknown>)
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let aborted: unknown = null
    let inB = false
    await consumer.connect()
    await consumer.run({
      eachMessage: async (msg, { signal }) => {
        if (msg.value !== 'b') return
        inB = true
        signal.addEventListener('abort', () => (aborted = signal.reason))
        await gate
      },
    })
    await waitFor(() => inB, 30_000)
    await waitFor(async () => (await committed(groupId, topic)).get(0) === '1', 30_000)
    const started = Date.now()
    await consumer.stop({ timeoutMs: 1000 })
    const took = Date.now() - started
    expect(took).toBeLessThan(1500)
    expect(aborted).toMatchObject({ code: 'CLOSED' })
    release()
    // The handler returns after the deadline: its record must stay uncommitted.
    await new Promise((r) => setTimeout(r, 1500))
    expect((await committed(groupId, topic)).get(0)).toBe('1')
  })

  it('ensureTopic names the broker\'s reason (a replication factor the cluster cannot give)', async () => {
    const admin = createAdmin({ brokers: brokers(), logger: quietLogger() })
    try {
      const err = await admin.ensureTopic({ name: uniqueName('eo-topic'), preset: 'exactly-once' }).then(() => null, (e: unknown) => e)
      expect(err).toMatchObject({ code: 'KAFKA', retriable: false })
      expect((err as Error).message).toMatch(/Replication-factor is invalid|INVALID_REPLICATION_FACTOR/)
    } finally {
      await admin.disconnect()
    }
  })
})
