/**
 * Exactly-once pipeline members giving partitions away: when a second member joins, the first closes the
 * transactional producers of the partitions it lost (after their transaction in flight), keeps those of the
 * partitions it still owns, and a read_committed reader of the output sees every input exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Consumer } from 'kafkajs'
import { pino } from 'pino'
import { createPipeline } from '../../src/index.js'
import type { Pipeline } from '../../src/index.js'
import { brokers, createTopic, readCommittedValues, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

const pipelines: Pipeline[] = []
const consumers: Consumer[] = []

afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.stop().catch(() => undefined)))
  await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)))
})

interface Member {
  pipeline: Pipeline
  /** Partitions of the member's last assignment. */
  owned: () => number
  /** Log lines at error level or above, and errors that stopped the member. */
  errors: string[]
}

function member(cfg: { groupId: string; from: string; to: string; prefix: string }): Member {
  const errors: string[] = []
  let owned = 0
  // Rebalances and revoked producers are normal operation: nothing may be logged at `error`.
  const logger = pino({ level: 'warn' }, {
    write: (line: string) => {
      if (/"level":(50|60)/.test(line)) errors.push(line.slice(0, 300))
    },
  })
  const pipeline = createPipeline({
    brokers: brokers(),
    logger,
    groupId: cfg.groupId,
    from: cfg.from,
    to: cfg.to,
    transactionalIdPrefix: cfg.prefix,
    consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollRecords: 20, fetchMaxWaitMs: 100 },
    transform: async (msg) => {
      // A little work per record, so the rebalance lands while transactions are in flight.
      await new Promise((r) => setTimeout(r, 1))
      return { key: msg.key, value: `copied:${msg.value}` }
    },
  })
  pipeline.on('pipeline.partitions-assigned', (tp) => {
    owned = Object.values(tp).reduce((n, parts) => n + parts.length, 0)
  })
  pipeline.on('pipeline.error', (e) => errors.push(`${e.code}: ${e.message}`))
  pipelines.push(pipeline)
  return { pipeline, owned: () => owned, errors }
}

async function produceRange(topic: string, from: number, to: number): Promise<void> {
  const producer = testKafka().producer({ idempotent: true })
  await producer.connect()
  for (let i = from; i < to; i += 500) {
    const messages = Array.from({ length: Math.min(500, to - i) }, (_, j) => ({ key: `k${(i + j) % 41}`, value: String(i + j) }))
    await producer.send({ topic, acks: -1, messages })
  }
  await producer.disconnect()
}

describe('pipeline members and revoked partitions', () => {
  it('a member closes the producers of partitions moved to a new member; every input exactly once', async () => {
    const input = uniqueName('prv-in')
    const output = uniqueName('prv-out')
    await createTopic(input, 4)
    await createTopic(output, 4)
    const N = 4000
    const cfg = { groupId: uniqueName('prv-group'), from: input, to: output, prefix: uniqueName('prv-tx') }
    await produceRange(input, 0, N / 2)

    const a = member(cfg)
    await a.pipeline.run()
    // A owns all 4 partitions and has written for each: one producer per partition.
    await waitFor(() => a.pipeline.metrics().openProducers === 4 || a.errors.length > 0, 90_000, 20)
    expect({ owned: a.owned(), openProducers: a.pipeline.metrics().openProducers, errors: a.errors }).toEqual({ owned: 4, openProducers: 4, errors: [] })

    const b = member(cfg)
    await b.pipeline.run()
    // The rebalance splits the partitions; more input keeps both members writing.
    await waitFor(() => (a.owned() > 0 && b.owned() > 0 && a.owned() + b.owned() === 4) || a.errors.length + b.errors.length > 0, 90_000, 20)
    await produceRange(input, N / 2, N)
    const owned = () => ({ a: a.owned(), b: b.owned() })
    const open = () => ({ a: a.pipeline.metrics().openProducers, b: b.pipeline.metrics().openProducers })
    await waitFor(() => open().a === a.owned() && open().b === b.owned(), 90_000, 50)

    const values = await readCommittedValues(testKafka(), consumers, output, N, 150_000)
    const dupes = values.length - new Set(values).size
    expect({ records: values.length, unique: new Set(values).size, dupes }).toEqual({ records: N, unique: N, dupes: 0 })
    for (let i = 0; i < N; i++) if (!values.includes(`copied:${i}`)) expect.fail(`input ${i} is missing from the output`)
    // Never a producer for a partition the member does not own (one closed after a failure reopens on its next write).
    expect(open().a).toBeLessThanOrEqual(owned().a)
    expect(open().b).toBeLessThanOrEqual(owned().b)
    expect(owned().a).toBeLessThan(4)
    expect({ a: a.errors, b: b.errors }).toEqual({ a: [], b: [] })

    await b.pipeline.stop()
    await a.pipeline.stop()
    expect(open()).toEqual({ a: 0, b: 0 })
  }, 300_000)
})
