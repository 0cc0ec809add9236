import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, it } from 'vitest'
import type { CommitStrategyConfig } from '../../src/config/types.js'
import { createConsumer } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { bundleFixture, killAll, killChild, startChild } from '../fixtures/child-process.js'
import { committed, highWatermarks, numbered, produce, quietLogger } from '../fixtures/consumer-helpers.js'

const PARTITIONS = 4
const RECORDS = 2000
const DELAY_MS = 3

// The five cases run at once (each on its own topic and group): most of a case is waiting for the killed member's
// session to time out, so one after the other they took five times as long. Each case stops what it started.
afterAll(async () => {
  await killAll()
})

interface Processed {
  at: number
  partition: number
  offset: string
  value: string
}

function readChildLog(path: string): Processed[] {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('P '))
    .map((l) => {
      const [, at, partition, offset, value] = l.split(' ')
      return { at: Number(at), partition: Number(partition), offset: offset!, value: value! }
    })
}

/** Most records one consumer finished within any window of `ms`. */
function maxInWindow(items: Processed[], ms: number): number {
  const t = items.map((i) => i.at).sort((a, b) => a - b)
  let best = 0
  let lo = 0
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! > ms) lo++
    best = Math.max(best, hi - lo + 1)
  }
  return best
}

const cases: { name: string; commit: CommitStrategyConfig; bound: (child: Processed[], parent: Processed[]) => number }[] = [
  // In flight: one record per owned partition whose commit had not landed, for each of the two revocations.
  { name: 'per-message', commit: { strategy: 'per-message' }, bound: () => 2 * PARTITIONS },
  { name: 'batch', commit: { strategy: 'batch', size: 40 }, bound: () => 40 * PARTITIONS },
  { name: 'hybrid', commit: { strategy: 'hybrid', size: 40, intervalMs: 5000 }, bound: () => 40 * PARTITIONS },
  {
    name: 'interval',
    commit: { strategy: 'interval', intervalMs: 400 },
    bound: (child, parent) => maxInWindow(child, 400 + 300) + maxInWindow(parent, 400 + 300),
  },
  {
    name: 'auto',
    commit: { strategy: 'auto', intervalMs: 400 },
    bound: (child, parent) => maxInWindow(child, 400 + 300) + maxInWindow(parent, 400 + 300),
  },
]

describe('commit strategies against a member SIGKILLed mid-stream and rebalances', () => {
  it.concurrent.for(cases)('$name: nothing lost, duplicates within bound, committed = processed after stop()', async ({ commit, bound }, { expect, onTestFinished }) => {
    const topic = uniqueName(`commit-${commit.strategy}`)
    const groupId = uniqueName('g')
    await createTopic(topic, PARTITIONS)
    await produce(topic, numbered(RECORDS, PARTITIONS))
    const script = await bundleFixture('test/fixtures/consumer-child.ts')
    const log = join(mkdtempSync(join(tmpdir(), 'kafkatune-child-')), 'processed.log')
    writeFileSync(log, '')

    // The child starts alone, then the in-process member joins (first rebalance), then the child is killed.
    const child = startChild(script, {
      CHILD_CONFIG: JSON.stringify({ brokers: brokers(), groupId, topic, log, commit, delayMs: DELAY_MS }),
    })
    onTestFinished(() => killChild(child))
    await waitFor(() => readChildLog(log).length >= 100 || child.exitCode !== null, 60_000)
    expect(child.exitCode).toBeNull()

    const parentSeen: Processed[] = []
    const parent = createConsumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      logger: quietLogger(),
      autoOffsetReset: 'earliest',
      commit,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      maxPollIntervalMs: 10_000,
      fetchMaxWaitMs: 100,
    })
    onTestFinished(() => parent.disconnect().catch(() => undefined))
    await parent.connect()
    await parent.run({
      eachMessage: async (m) => {
        await new Promise((r) => setTimeout(r, DELAY_MS))
        parentSeen.push({ at: Date.now(), partition: m.partition, offset: m.offset, value: m.value! })
      },
    })
    await waitFor(() => parentSeen.length >= 50, 60_000)
    // Mid-stream: the child keeps going on its share after the rebalance, then dies without a goodbye.
    const childAtJoin = readChildLog(log).length
    await waitFor(() => readChildLog(log).length >= childAtJoin + 50 || child.exitCode !== null, 60_000)
    expect(child.exitCode).toBeNull()
    await killChild(child)
    const childSeen = readChildLog(log)
    expect(childSeen.length).toBeLessThan(RECORDS)

    // The survivor gets the dead member's partitions after the session timeout and finishes the topic.
    await waitFor(() => new Set([...parentSeen, ...childSeen].map((p) => p.value)).size >= RECORDS, 60_000)
    await parent.stop()

    // The log holds each record once (the fixture producer is idempotent), so repeats below are redeliveries.
    const high = await highWatermarks(topic)
    expect([...high.values()].reduce((sum, h) => sum + Number(h), 0)).toBe(RECORDS)
    const all = [...parentSeen, ...childSeen]
    const unique = new Set(all.map((p) => p.value))
    expect(unique.size).toBe(RECORDS)
    const duplicates = all.length - unique.size
    expect(duplicates).toBeLessThanOrEqual(bound(childSeen, parentSeen))
    // The parent joined a group the child led, then took over after the kill: one more join.
    expect(parent.metrics().rebalances).toBeGreaterThanOrEqual(1)
    // The child really owned partitions and the parent took them over after the kill.
    const childPartitions = new Set(childSeen.map((p) => p.partition))
    expect(childPartitions.size).toBeGreaterThan(0)
    const killedAt = Math.max(...childSeen.map((p) => p.at))
    expect(parentSeen.some((p) => p.at > killedAt && childPartitions.has(p.partition))).toBe(true)

    const offsets = await committed(groupId, topic)
    for (let p = 0; p < PARTITIONS; p++) expect(offsets.get(p)).toBe(high.get(p))
  })
})
