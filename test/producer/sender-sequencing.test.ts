/**
 * The idempotent sender's sequencing against a simulated broker log (pure logic at the SenderEngine
 * seam: the real accumulator, sender and sequence bookkeeping; the broker's per-producer sequence
 * check is modelled, including its acceptance of any first sequence from a producer id it does not
 * know). The same behaviour runs against real brokers in test/integration/producer-faults.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KafkatuneError } from '../../src/errors.js'
import { RecordAccumulator, estimateRecordSize } from '../../src/producer/accumulator.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerMetricsRecorder } from '../../src/producer/metrics.js'
import { Sender } from '../../src/producer/sender.js'
import type { FailureKind, OutboundBatch, OutboundRecord, PartitionAck, PartitionAckResult, SenderEngine } from '../../src/producer/sender.js'
import { PartitionSequences } from '../../src/producer/sequences.js'

/** `overtake`: the second request on the wire reaches the broker first (another connection, a new leader). */
type Mode = 'ok' | 'lost-response' | 'refused' | 'partition-refused' | 'overtake'
type Step = { kind: 'send'; partition: number; count: number } | { kind: 'answer'; mode: Mode; victim: number } | { kind: 'tick' }

interface Cached {
  base: number
  count: number
  offset: number
}

/** One partition of the simulated broker: the log and what it remembers of this producer. */
interface BrokerPartition {
  log: string[]
  generation: number
  expected: number
  cache: Cached[]
}

interface Request {
  batches: readonly OutboundBatch[]
  seqs: number[]
  generations: number[]
  resolve: (acks: PartitionAck[]) => void
  reject: (err: unknown) => void
}

const PARTITIONS = 3

function harness(opts: { retries: number; maxInFlight: number; forgetful?: boolean }) {
  const sequences = new PartitionSequences({ transactional: false })
  const pool = new BufferPool(10_000_000, 1000)
  const acc = new RecordAccumulator<OutboundRecord>({
    batchSize: 61 + 2 * 26,
    lingerMs: 0,
    maxDrainBytes: 61 + 4 * 26,
    maxDrainRecords: 4,
    maxInFlightPerPartition: opts.maxInFlight,
  })
  const broker: BrokerPartition[] = Array.from({ length: PARTITIONS }, () => ({ log: [], generation: -1, expected: 0, cache: [] }))
  const pending: Request[] = []
  let maxOnWire = 0
  let described = 0
  let resets = 0
  const onWire = new Map<number, number>()
  const fail = (kind: FailureKind, extra: Record<string, unknown> = {}) => Object.assign(new Error(`fake ${kind}`), { kind, ...extra })

  const engine: SenderEngine = {
    sequences,
    produce(batches) {
      const seqs = batches.map((b) => sequences.baseSequence(b))
      const generations = batches.map((b) => sequences.generationOf(b))
      for (const b of batches) {
        const n = (onWire.get(b.partition) ?? 0) + 1
        onWire.set(b.partition, n)
        maxOnWire = Math.max(maxOnWire, n)
      }
      return new Promise<PartitionAck[]>((resolve, reject) => {
        const done = <T,>(f: (v: T) => void) => (v: T) => {
          for (const b of batches) onWire.set(b.partition, (onWire.get(b.partition) as number) - 1)
          f(v)
        }
        pending.push({ batches, seqs, generations, resolve: done(resolve), reject: done(reject) })
      })
    },
    partitionResults: (err) => (err as { results?: PartitionAckResult[] }).results ?? null,
    classify(err) {
      const e = err as { kind: FailureKind; outOfOrder?: boolean; message: string }
      return { kind: e.kind, outOfOrder: e.outOfOrder, error: new KafkatuneError('KAFKA', e.message, { retriable: e.kind === 'retriable' }) }
    },
    leaderOf: () => 1,
    // DescribeProducers: the last sequence the partition wrote for the producer's current identity.
    lastSequence: async (_topic, partition) => {
      described++
      const p = broker[partition] as BrokerPartition
      return p.generation === sequences.generation ? p.expected - 1 : null
    },
    staleMetadata: () => undefined,
    reset: async () => {
      resets++
      sequences.newIdentity()
    },
  }
  const sender = new Sender(acc, pool, engine, new ProducerMetricsRecorder(), {
    maxInFlightRequests: opts.maxInFlight,
    maxRequestSize: 1_000_000,
    retries: opts.retries,
    retryBackoffMs: 1,
    retryBackoffMaxMs: 2,
    deliveryTimeoutMs: 600_000,
    acksZero: false,
  })

  /** The broker's sequence check for one batch: write, recognise a duplicate, or refuse it. */
  function write(req: Request, i: number): PartitionAckResult {
    const b = req.batches[i] as OutboundBatch
    const seq = req.seqs[i] as number
    const p = broker[b.partition] as BrokerPartition
    const ack = (offset: number): PartitionAckResult => ({ topic: b.topic, partition: b.partition, baseOffset: String(offset), logAppendTime: '-1', error: null })
    const generation = req.generations[i] as number
    if (p.generation !== generation) {
      // A producer id this partition has no state for: any sequence is taken (as a real broker does).
      p.generation = generation
      p.cache = []
    } else {
      const dup = p.cache.find((c) => c.base === seq && c.count === b.records.length)
      // A forgetful broker refuses the resend of a batch it holds as out of order (Kafka 4.1.2 did, after a freeze).
      if (dup !== undefined && opts.forgetful === true) return { topic: b.topic, partition: b.partition, baseOffset: '-1', logAppendTime: '-1', error: fail('reset', { outOfOrder: true }) }
      if (dup !== undefined) return ack(dup.offset)
      if (seq !== p.expected) return { topic: b.topic, partition: b.partition, baseOffset: '-1', logAppendTime: '-1', error: fail('reset', { outOfOrder: true }) }
    }
    const offset = p.log.length
    for (const r of b.records) p.log.push((r.value as Buffer).toString())
    p.expected = seq + b.records.length
    p.cache.push({ base: seq, count: b.records.length, offset })
    if (p.cache.length > 5) p.cache.shift()
    return ack(offset)
  }

  /** The broker handles the oldest request still on the wire, then the client sees `mode`'s answer. */
  function answer(mode: Mode, victim: number): boolean {
    const req = mode === 'overtake' && pending.length > 1 ? pending.splice(1, 1)[0] : pending.shift()
    if (req === undefined) return false
    if (mode === 'refused') {
      req.reject(fail('retriable'))
      return true
    }
    const results = req.batches.map((b, i) =>
      mode === 'partition-refused' && b.partition === victim
        ? { topic: b.topic, partition: b.partition, baseOffset: '-1', logAppendTime: '-1', error: fail('retriable') }
        : write(req, i),
    )
    if (mode === 'lost-response') req.reject(fail('retriable'))
    else if (results.every((r) => r.error === null)) req.resolve(results)
    else req.reject(Object.assign(fail('retriable'), { results }))
    return true
  }

  const sent: string[][] = Array.from({ length: PARTITIONS }, () => [])
  const outcomes = new Map<string, { offset?: string; err?: KafkatuneError }>()
  let settledCount = 0
  function send(partition: number): void {
    const value = `${partition}:${(sent[partition] as string[]).length}`
    ;(sent[partition] as string[]).push(value)
    const v = Buffer.from(value)
    const rec: OutboundRecord = {
      key: null,
      value: v,
      headers: undefined,
      timestamp: '1',
      size: estimateRecordSize(null, v, undefined),
      sendAt: Date.now(),
      settle(md, err) {
        if (outcomes.has(value)) return false
        outcomes.set(value, err === null ? { offset: md?.offset } : { err })
        settledCount++
        return true
      },
    }
    acc.append('t', partition, rec, Date.now())
    sender.wake()
  }
  const total = () => sent.reduce((s, p) => s + p.length, 0)
  return { send, answer, broker, sent, outcomes, sender, pending, settled: () => settledCount, total, maxOnWire: () => maxOnWire, described: () => described, resets: () => resets }
}

const tick = () => new Promise((r) => setTimeout(r, 3))

const steps = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), partition: fc.integer({ min: 0, max: PARTITIONS - 1 }), count: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('answer' as const), mode: fc.constantFrom<Mode>('ok', 'ok', 'lost-response', 'refused', 'partition-refused', 'overtake'), victim: fc.integer({ min: 0, max: PARTITIONS - 1 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
  ),
  { minLength: 5, maxLength: 40 },
)

async function run(h: ReturnType<typeof harness>, script: Step[]): Promise<void> {
  for (const s of script) {
    if (s.kind === 'send') for (let i = 0; i < s.count; i++) h.send(s.partition)
    else if (s.kind === 'answer') {
      if (h.pending.length === 0) await tick()
      h.answer(s.mode, s.victim)
    }
    await tick()
  }
  // Then the broker answers everything until every record is settled.
  for (let guard = 0; h.settled() < h.total(); guard++) {
    if (guard > 3000) throw new Error(`stuck: ${h.settled()}/${h.total()} settled, ${h.pending.length} request(s) pending`)
    if (!h.answer('ok', 0)) await tick()
    else await new Promise((r) => setImmediate(r))
  }
}

describe('Sender sequencing with several batches in flight per partition', () => {
  it('the broker log of each partition is every record once, in send order, whatever the answers', async () => {
    let pipelined = 0
    await fc.assert(
      fc.asyncProperty(steps, async (script) => {
        const h = harness({ retries: 1_000_000, maxInFlight: 5 })
        await run(h, script)
        for (let p = 0; p < PARTITIONS; p++) {
          const log = (h.broker[p] as BrokerPartition).log
          expect(log).toEqual(h.sent[p])
          // Every record was acknowledged with its own place in the log.
          for (const [i, value] of log.entries()) expect(h.outcomes.get(value)).toEqual({ offset: String(i) })
        }
        expect(h.maxOnWire()).toBeLessThanOrEqual(5)
        if (h.maxOnWire() > 1) pipelined++
      }),
      { numRuns: Number(process.env.SEQ_RUNS ?? 60) },
    )
    // The limit is really above one: partitions had several batches on the wire at once.
    expect(pipelined).toBeGreaterThan(10)
  }, 120_000)

  it('a broker that refuses resends of batches it holds as out of order: asked what it holds, nothing is written twice', async () => {
    let asked = 0
    let multi = 0
    await fc.assert(
      fc.asyncProperty(steps, async (script) => {
        const h = harness({ retries: 1_000_000, maxInFlight: 5, forgetful: true })
        await run(h, script)
        for (let p = 0; p < PARTITIONS; p++) {
          const log = (h.broker[p] as BrokerPartition).log
          expect(log).toEqual(h.sent[p])
          // Its own place in the log, or -1 for a batch acknowledged from the leader's last sequence.
          for (const [i, value] of log.entries()) expect(['-1', String(i)]).toContain(h.outcomes.get(value)?.offset)
        }
        if (h.described() > 0) asked++
        if (h.described() > 1 && h.resets() === 0) multi++
      }),
      { numRuns: Number(process.env.SEQ_RUNS ?? 60) },
    )
    expect(asked).toBeGreaterThan(5)
    expect(multi).toBeGreaterThan(0)
  }, 120_000)

  it('with batches given up (few retries), the log holds every acknowledged record once and nothing out of order', async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (script) => {
        const h = harness({ retries: 1, maxInFlight: 5 })
        await run(h, script)
        for (let p = 0; p < PARTITIONS; p++) {
          const log = (h.broker[p] as BrokerPartition).log
          const sentOrder = new Map((h.sent[p] as string[]).map((v, i) => [v, i]))
          const indices = log.map((v) => sentOrder.get(v) as number)
          // No duplicate, no reordering: the log is a strictly increasing part of what was sent.
          for (let i = 1; i < indices.length; i++) expect(indices[i] as number).toBeGreaterThan(indices[i - 1] as number)
          for (const v of h.sent[p] as string[]) {
            const o = h.outcomes.get(v)
            if (o?.offset !== undefined) expect(log[Number(o.offset)]).toBe(v)
          }
        }
      }),
      { numRuns: Number(process.env.SEQ_RUNS ?? 60) },
    )
  }, 120_000)
})
