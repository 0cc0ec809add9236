/** ordering 'key' on the real broker: per-key order under concurrency, and a SIGKILL with the offset map. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { CommitStrategyConfig } from '../../src/config/types.js'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { bundleFixture, killAll, killChild, startChild } from '../fixtures/child-process.js'
import { committed, produce, quietLogger, readAll } from '../fixtures/consumer-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await killAll()
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

describe("ordering 'key' on the real broker", () => {
  it('20,000 records over 500 keys on one partition, concurrency 64: every key in offset order, all handled', async () => {
    const RECORDS = 20_000
    const KEYS = 500
    const topic = uniqueName('par-order')
    await createTopic(topic, 1)
    await produce(topic, Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % KEYS}`, value: `v-${i}`, partition: 0 })))

    const byKey = new Map<string, number[]>()
    let handled = 0
    let running = 0
    let peak = 0
    const consumer = createConsumer({
      brokers: brokers(),
      groupId: uniqueName('g'),
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      ordering: 'key',
      concurrency: 64,
      commit: { strategy: 'interval', intervalMs: 500 },
    })
    open.push(consumer as Consumer<unknown, unknown>)
    await consumer.connect()
    const started = Date.now()
    await consumer.run({
      eachMessage: async (m) => {
        running++
        peak = Math.max(peak, running)
        await sleep(Math.floor(Math.random() * 21))
        const list = byKey.get(m.key!) ?? []
        list.push(Number(m.offset))
        byKey.set(m.key!, list)
        handled++
        running--
      },
    })
    await waitFor(() => handled >= RECORDS, 90_000)
    const elapsed = Date.now() - started
    const metrics = consumer.metrics()
    await consumer.stop()
    console.log(`per-key order: ${RECORDS} records, ${KEYS} keys, concurrency 64: ${elapsed} ms, peak in flight ${peak}`)

    expect(handled).toBe(RECORDS)
    expect(byKey.size).toBe(KEYS)
    for (const [key, offsets] of byKey) {
      const i = Number(key.slice(1))
      // Offset o carries key k(o % KEYS): each key saw exactly its offsets, ascending.
      expect(offsets).toEqual(Array.from({ length: RECORDS / KEYS }, (_, n) => i + n * KEYS))
    }
    expect(peak).toBeLessThanOrEqual(64)
    expect(peak).toBeGreaterThan(32)
    expect(metrics.records).toBe(RECORDS)
  })

  it('SIGKILL mid-stream, restart: every record at least once, duplicates within the in-flight window, the offset map skips what finished', async () => {
    const RECORDS = 3000
    const CONCURRENCY = 32
    const topic = uniqueName('par-crash')
    const groupId = uniqueName('g')
    await createTopic(topic, 1)
    // One key in 50 is slow, so records of other keys finish far ahead of it and the map has work to do.
    await produce(topic, Array.from({ length: RECORDS }, (_, i) => ({ key: i % 50 === 0 ? `slow${i % 3}` : `k${i % 97}`, value: `v-${i}`, partition: 0 })))
    const commit: CommitStrategyConfig = { strategy: 'per-message' }
    const script = await bundleFixture('test/fixtures/parallel-child.ts')
    const log = join(mkdtempSync(join(tmpdir(), 'kafkatune-par-')), 'processed.log')
    writeFileSync(log, '')
    const child = startChild(script, { CHILD_CONFIG: JSON.stringify({ brokers: brokers(), groupId, topic, log, commit, concurrency: CONCURRENCY, maxDelayMs: 5, slowMs: 150 }) })
    const childLines = () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('P '))
        .map((l) => l.split(' ')[4]!)
    await waitFor(() => childLines().length >= 800 || child.exitCode !== null, 60_000)
    expect(child.exitCode).toBeNull()
    await killChild(child)
    const childSeen = childLines()
    expect(childSeen.length).toBeLessThan(RECORDS)

    const restoredAt = Number((await committed(groupId, topic)).get(0))
    expect(restoredAt).toBeGreaterThan(0)
    const parentSeen: string[] = []
    const consumer = createConsumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      ordering: 'key',
      concurrency: CONCURRENCY,
      commit,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      fetchMaxWaitMs: 100,
    })
    open.push(consumer as Consumer<unknown, unknown>)
    await consumer.connect()
    await consumer.run({ eachMessage: async (m) => void parentSeen.push(m.value!) })
    await waitFor(() => new Set([...childSeen, ...parentSeen]).size >= RECORDS, 60_000)
    await consumer.stop()
    const { skippedOnRestore } = consumer.metrics()

    const all = [...childSeen, ...parentSeen]
    const unique = new Set(all)
    expect(unique.size).toBe(RECORDS)
    const duplicates = all.length - unique.size
    console.log(`SIGKILL with ordering 'key': child handled ${childSeen.length}, restart from ${restoredAt}, skipped ${skippedOnRestore} from the offset map, handled again ${duplicates} (bound ${CONCURRENCY})`)
    // per-message: a record holds its slot until its commit landed, so at most `concurrency` were handled and not committed.
    expect(duplicates).toBeLessThanOrEqual(CONCURRENCY)
    // Every offset from the committed one on was either skipped from the map or handled once by the restart.
    expect(skippedOnRestore).toBeGreaterThan(0)
    expect(parentSeen.length + skippedOnRestore).toBe(RECORDS - restoredAt)
    expect((await committed(groupId, topic)).get(0)).toBe(String(RECORDS))
  })

  it('a second member joins mid-stream and the first leaves: nothing lost, duplicates within the in-flight window', async () => {
    const RECORDS = 6000
    const PARTITIONS = 4
    const CONCURRENCY = 16
    const topic = uniqueName('par-rebalance')
    const groupId = uniqueName('g')
    await createTopic(topic, PARTITIONS)
    await produce(topic, Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % 61}`, value: `v-${i}`, partition: i % PARTITIONS })))
    const seen: string[] = []
    const byKey = new Map<string, number[]>()
    const member = () => {
      const c = createConsumer({
        brokers: brokers(),
        groupId,
        topics: [topic],
        logger: quietLogger(),
        autoOffsetReset: 'earliest',
        ordering: 'key',
        concurrency: CONCURRENCY,
        commit: { strategy: 'batch', size: 20 },
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        fetchMaxWaitMs: 100,
      })
      open.push(c as Consumer<unknown, unknown>)
      return c
    }
    const handler = async (m: { key: string | null; value: string | null; partition: number; offset: string }) => {
      await sleep(10 + Math.floor(Math.random() * 21))
      seen.push(m.value!)
      const k = `${m.partition}/${m.key}`
      byKey.set(k, [...(byKey.get(k) ?? []), Number(m.offset)])
    }
    const a = member()
    await a.connect()
    await a.run({ eachMessage: handler })
    await waitFor(() => seen.length >= 500, 60_000)
    const b = member()
    await b.connect()
    await b.run({ eachMessage: handler })
    await waitFor(() => b.metrics().records >= 200, 60_000).catch((err: unknown) => {
      throw new Error(`b handled ${b.metrics().records}, a ${a.metrics().records}, seen ${seen.length}: ${JSON.stringify({ a: a.metrics(), b: b.metrics() })}`, { cause: err })
    })
    await a.stop()
    await waitFor(() => new Set(seen).size >= RECORDS, 60_000).catch((err: unknown) => {
      throw new Error(`after a left: seen ${new Set(seen).size}: ${JSON.stringify({ b: b.metrics() })}`, { cause: err })
    })
    await b.stop()

    const unique = new Set(seen)
    expect(unique.size).toBe(RECORDS)
    const duplicates = seen.length - unique.size
    console.log(`rebalance with ordering 'key': ${seen.length} handled, ${duplicates} twice, b skipped ${b.metrics().skippedOnRestore} from offset maps`)
    // Two revocations (b joins, a leaves), each committing exactly what finished: at most the records running then.
    expect(duplicates).toBeLessThanOrEqual(2 * CONCURRENCY)
    expect(b.metrics().rebalances + a.metrics().rebalances).toBeGreaterThanOrEqual(1)
    const offsets = await committed(groupId, topic)
    for (let p = 0; p < PARTITIONS; p++) expect(offsets.get(p)).toBe(String(RECORDS / PARTITIONS))
    // Per key, the first handling of each record is in offset order across both members.
    for (const offsets of byKey.values()) {
      const firsts = offsets.filter((o, i) => offsets.indexOf(o) === i)
      expect(firsts).toEqual([...firsts].sort((x, y) => x - y))
    }
  })

  it('a key failing for good goes to the dead-letter topic after its retries while the other keys go on', async () => {
    const topic = uniqueName('par-dlq')
    const dlq = `${topic}.dlq`
    await createTopic(topic, 1)
    await createTopic(dlq, 1)
    const RECORDS = 600
    await produce(topic, Array.from({ length: RECORDS }, (_, i) => ({ key: i % 100 === 7 ? 'bad' : `k${i % 40}`, value: `v-${i}`, partition: 0 })))
    const handled = new Set<string>()
    let badCalls = 0
    const groupId = uniqueName('g')
    const consumer = createConsumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      ordering: 'key',
      concurrency: 16,
      retry: { attempts: 3, backoffMs: 50 },
      deadLetterTopic: dlq,
      commit: { strategy: 'batch', size: 50 },
    })
    open.push(consumer as Consumer<unknown, unknown>)
    await consumer.connect()
    await consumer.run({
      eachMessage: async (m) => {
        if (m.key === 'bad') {
          badCalls++
          throw new Error('bad key')
        }
        await sleep(2)
        handled.add(m.value!)
      },
    })
    await waitFor(() => consumer.metrics().records >= RECORDS, 60_000)
    await consumer.stop()
    expect(handled.size).toBe(RECORDS - 6)
    expect(badCalls).toBe(6 * 3)
    expect(consumer.metrics()).toMatchObject({ deadLettered: 6, retries: 12 })
    const dead = await readAll(dlq, 6)
    expect(dead.map((d) => d.key?.toString()).every((k) => k === 'bad')).toBe(true)
    expect((await committed(groupId, topic)).get(0)).toBe(String(RECORDS))
  })
})
