/** health() of the consumer, the producer and the pipeline against a real broker. */
import { afterEach, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import type { Health } from '../../src/observability/health.js'
import { createPipeline } from '../../src/pipeline/index.js'
import { createProducer } from '../../src/producer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { produce, quietLogger } from '../fixtures/consumer-helpers.js'

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }
const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

const check = (h: Health, name: string) => h.checks.find((c) => c.name === name)!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A handler that hangs on the value 'hang' until the test releases it. */
function hangingHandler() {
  let release = () => undefined as void
  const gate = new Promise<void>((r) => (release = r))
  let hung = 0
  const seen: string[] = []
  return {
    seen,
    hung: () => hung,
    release: () => release(),
    handle: async (value: string | null) => {
      if (value === 'hang') {
        hung = Date.now()
        await gate
      }
      seen.push(value ?? '')
    },
  }
}

describe('consumer.health()', () => {
  it('not ready before run(); live and ready once a member; polls keep it live while idle; a hanging handler fails liveness after consumeTtlMs', async () => {
    const topic = uniqueName('health-c')
    await createTopic(topic, 2)
    const consumer = createConsumer({ brokers: brokers(), groupId: uniqueName('g'), topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', ...fast })
    open.push(consumer as Consumer<unknown, unknown>)
    expect(consumer.health()).toMatchObject({ live: true, ready: false, reasons: ['state: not connected'] })
    await consumer.connect()
    const h = hangingHandler()
    await consumer.run({ eachMessage: async (m) => h.handle(m.value) })
    await waitFor(() => consumer.health().ready, 30_000)
    expect(check(consumer.health(), 'group').detail).toBe('member with 2 partition(s) assigned')

    // Idle: fetches (every fetchMaxWaitMs) keep the polling TTL fresh.
    for (let i = 0; i < 6; i++) {
      await sleep(500)
      expect(consumer.health({ pollTtlMs: 1500 }), JSON.stringify(consumer.health().reasons)).toMatchObject({ live: true, ready: true })
    }

    await produce(topic, [{ key: 'a', value: 'ok', partition: 0 }, { key: 'b', value: 'hang', partition: 0 }])
    await waitFor(() => h.hung() > 0, 30_000)
    // Healthy while the call is younger than the TTL...
    expect(consumer.health({ consumeTtlMs: 1500 }).live).toBe(true)
    await waitFor(() => !consumer.health({ consumeTtlMs: 1500 }).live, 10_000, 20)
    const failedAfter = Date.now() - h.hung()
    // ...and failing right after it.
    expect(failedAfter).toBeGreaterThanOrEqual(1500)
    expect(failedAfter).toBeLessThan(2500)
    const report = consumer.health({ consumeTtlMs: 1500 })
    expect(report.ready).toBe(false)
    expect(report.reasons).toEqual([expect.stringMatching(/^consume: oldest handler call running for \d+ ms \(ttl 1500 ms\)$/)])
    // The default TTL is maxPollIntervalMs (10 s here): still live by that measure.
    expect(consumer.health().live).toBe(true)

    h.release()
    await waitFor(() => h.seen.includes('hang'), 10_000)
    expect(consumer.health({ consumeTtlMs: 1500 }).live).toBe(true)
    await consumer.stop()
    expect(consumer.health()).toMatchObject({ live: true, ready: false, reasons: ['state: connected, not consuming (run() not called, or stopped)'] })
  })

  it("ordering 'key': a hanging record fails liveness after consumeTtlMs while other keys go on", async () => {
    const topic = uniqueName('health-key')
    await createTopic(topic, 1)
    const consumer = createConsumer({ brokers: brokers(), groupId: uniqueName('g'), topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', ordering: 'key', concurrency: 8, ...fast })
    open.push(consumer as Consumer<unknown, unknown>)
    const h = hangingHandler()
    await consumer.connect()
    await consumer.run({ eachMessage: async (m) => h.handle(m.value) })
    await produce(topic, [{ key: 'stuck', value: 'hang', partition: 0 }, ...Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 }))])
    await waitFor(() => h.hung() > 0 && h.seen.length === 20, 30_000)
    expect(consumer.health({ consumeTtlMs: 1500 }).live).toBe(true)
    await waitFor(() => !consumer.health({ consumeTtlMs: 1500 }).live, 10_000, 20)
    expect(Date.now() - h.hung()).toBeGreaterThanOrEqual(1500)
    expect(consumer.health({ consumeTtlMs: 1500 }).reasons).toEqual([expect.stringMatching(/^consume: oldest handler call running for \d+ ms \(ttl 1500 ms\)$/)])
    h.release()
    await waitFor(() => consumer.health({ consumeTtlMs: 1500 }).live, 10_000)
  })

  it('a second member of a one-partition topic is ready while idle; the first becomes ready again after the rebalance', async () => {
    const topic = uniqueName('health-idle')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    const make = () => {
      const c = createConsumer({ brokers: brokers(), groupId, topics: [topic], logger: quietLogger(), ...fast })
      open.push(c as Consumer<unknown, unknown>)
      return c
    }
    const [a, b] = [make(), make()]
    const notReadyA: string[] = []
    await a.connect()
    await a.run({ eachMessage: async () => undefined })
    await waitFor(() => a.health().ready, 30_000)
    // Asked while the first member gives its partitions up for the rejoin the second one's join causes.
    a.on('partitions-revoked', () => notReadyA.push(...a.health().reasons))
    await b.connect()
    await b.run({ eachMessage: async () => undefined })
    await waitFor(() => a.health().ready && b.health().ready && check(a.health(), 'group').detail !== check(b.health(), 'group').detail, 30_000)
    const details = [a, b].map((c) => check(c.health(), 'group').detail).sort()
    expect(details).toEqual(['member with 1 partition(s) assigned', 'member with no partitions assigned (idle: more members than partitions)'])
    // The first member went through the rebalance the second one's join caused.
    expect(notReadyA.some((r) => /^group: rebalancing for \d+ ms$/.test(r))).toBe(true)
  })
})

describe('producer.health()', () => {
  it('not ready before connect(); ready when connected; not ready while the buffer is near full; not live once disconnected', async () => {
    const topic = uniqueName('health-p')
    await createTopic(topic, 1)
    // Records linger (60 s) in one 20 kB batch: they fill the 20 kB buffer without being sent.
    const producer = createProducer({ brokers: brokers(), logger: quietLogger(), lingerMs: 60_000, batchSize: 20_000, bufferMemory: 20_000 })
    expect(producer.health()).toMatchObject({ live: true, ready: false, reasons: ['state: not connected'] })
    await producer.connect()
    expect(producer.health()).toMatchObject({ live: true, ready: true })
    const sends = Array.from({ length: 18 }, (_, i) => producer.send({ topic, key: `k${i}`, value: 'x'.repeat(1000) }))
    // The first send waits for the topic's metadata before it reserves buffer space.
    await waitFor(() => producer.metrics().bufferBytesInUse >= 18_000, 10_000)
    const full = producer.health()
    expect(full.live).toBe(true)
    expect(full.ready).toBe(false)
    expect(full.reasons).toEqual([expect.stringMatching(/^buffer: \d+ of bufferMemory 20000 bytes in use, at or above 90%$/)])
    await producer.flush()
    await Promise.all(sends)
    expect(producer.health()).toMatchObject({ live: true, ready: true })
    expect(check(producer.health(), 'requests').ok).toBe(true)
    await producer.disconnect()
    expect(producer.health()).toMatchObject({ live: false, ready: false, reasons: ['state: disconnected'] })
  })
})

describe('pipeline.health()', () => {
  it('ready once a member; a hanging transform fails liveness after consumeTtlMs; stopping during stop(), stopped after it', async () => {
    const [input, output] = [uniqueName('health-in'), uniqueName('health-out')]
    await createTopic(input, 1)
    await createTopic(output, 1)
    const h = hangingHandler()
    const pipeline = createPipeline({
      brokers: brokers(),
      logger: quietLogger(),
      groupId: uniqueName('g'),
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('tx'),
      consumer: { autoOffsetReset: 'earliest', ...fast },
      transform: async (m) => {
        await h.handle(m.value)
        return { key: m.key, value: m.value ?? '' }
      },
    })
    expect(pipeline.health()).toMatchObject({ live: true, ready: false })
    await pipeline.run()
    try {
      await waitFor(() => pipeline.health().ready, 30_000)
      await produce(input, [{ key: 'a', value: 'hang', partition: 0 }])
      await waitFor(() => h.hung() > 0, 30_000)
      expect(pipeline.health({ consumeTtlMs: 1500 }).live).toBe(true)
      await waitFor(() => !pipeline.health({ consumeTtlMs: 1500 }).live, 10_000, 20)
      expect(Date.now() - h.hung()).toBeGreaterThanOrEqual(1500)
      expect(pipeline.health({ consumeTtlMs: 1500 }).reasons).toEqual([expect.stringMatching(/^consume: oldest handler call running for \d+ ms/)])
      h.release()
      await waitFor(() => pipeline.metrics().outputRecords === 1, 30_000)
      expect(pipeline.health({ consumeTtlMs: 1500 })).toMatchObject({ live: true, ready: true })
      // While stop() runs the pipeline is stopping; once it resolved, stopped for good (as a consumer that was
      // stopped: live, not ready, not fetching, not a member).
      const stopping = pipeline.stop()
      expect(pipeline.health()).toMatchObject({ live: true, ready: false, reasons: ['state: stopping'] })
      await stopping
    } finally {
      h.release()
      await pipeline.stop()
    }
    const after = pipeline.health()
    expect(after).toMatchObject({ live: true, ready: false, reasons: ['state: stopped (stop() completed)'] })
    expect(after.checks.map((c) => `${c.name}: ${c.detail}`)).toEqual([
      'state: stopped (stop() completed)',
      'poll: not consuming',
      'consume: no handler call running',
      'group: not a member (not consuming)',
    ])
  })
})
