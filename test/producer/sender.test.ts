/**
 * Bookkeeping of the sender with a fake engine at the SenderEngine seam (no Kafka behaviour is
 * claimed here; the same behaviours run against the real broker in test/integration/producer*.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { KafkatuneError } from '../../src/errors.js'
import { RecordAccumulator, estimateRecordSize } from '../../src/producer/accumulator.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerMetricsRecorder } from '../../src/producer/metrics.js'
import { Sender } from '../../src/producer/sender.js'
import type { FailureKind, OutboundBatch, OutboundRecord, PartitionAck, PartitionAckResult, SenderEngine } from '../../src/producer/sender.js'
import type { RecordMetadata } from '../../src/producer/types.js'

interface Outcome {
  md?: RecordMetadata
  err?: KafkatuneError
}

type Answer = PartitionAck[] | FailureKind | { kind: FailureKind; results: PartitionAckResult[] }

function setup(respond: (batches: readonly OutboundBatch[], call: number) => Answer, opts: { maxInFlight?: number; deliveryTimeoutMs?: number; retries?: number } = {}) {
  const acc = new RecordAccumulator<OutboundRecord>({ batchSize: 10_000, lingerMs: 0, maxDrainBytes: 1_000_000, maxDrainRecords: 1000 })
  const pool = new BufferPool(1_000_000, 1000)
  const nextOffset = new Map<number, number>()
  const requests: { partitions: number[]; records: number }[] = []
  let calls = 0
  let resets = 0
  let concurrent = 0
  let maxConcurrent = 0
  const engine: SenderEngine = {
    async produce(batches) {
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      await new Promise((r) => setImmediate(r))
      concurrent--
      requests.push({ partitions: batches.map((b) => b.partition), records: batches.reduce((s, b) => s + b.records.length, 0) })
      const r = respond(batches, calls++)
      if (typeof r === 'string') throw Object.assign(new Error(`fake ${r}`), { kind: r })
      if (!Array.isArray(r)) throw Object.assign(new Error(`fake partial ${r.kind}`), r)
      return r
    },
    partitionResults: (err) => (err as { results?: PartitionAckResult[] }).results ?? null,
    classify(err) {
      const kind = (err as { kind: FailureKind }).kind
      return { kind, error: new KafkatuneError(kind === 'fenced' ? 'FENCED' : 'KAFKA', (err as Error).message, { retriable: kind === 'retriable' }) }
    },
    leaderOf: () => 1,
    staleMetadata: () => undefined,
    reset: async () => {
      resets++
    },
  }
  const metrics = new ProducerMetricsRecorder()
  const sender = new Sender(acc, pool, engine, metrics, {
    maxInFlightRequests: opts.maxInFlight ?? 5,
    maxRequestSize: 1_000_000,
    retries: opts.retries ?? 10,
    retryBackoffMs: 1,
    retryBackoffMaxMs: 2,
    deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 60_000,
    acksZero: false,
  })
  const ackAll = (batches: readonly OutboundBatch[]): PartitionAck[] =>
    batches.map((b) => {
      const base = nextOffset.get(b.partition) ?? 0
      nextOffset.set(b.partition, base + b.records.length)
      return { topic: b.topic, partition: b.partition, baseOffset: String(base), logAppendTime: '-1' }
    })
  const outcomes: Outcome[] = []
  const pending: Promise<void>[] = []
  function send(partition: number, value: string): void {
    const v = Buffer.from(value)
    const i = outcomes.length
    outcomes.push({})
    let done!: () => void
    pending.push(new Promise<void>((r) => (done = r)))
    let settled = false
    const rec: OutboundRecord = {
      key: null,
      value: v,
      headers: undefined,
      timestamp: '1',
      size: estimateRecordSize(null, v, undefined),
      sendAt: Date.now(),
      settle(md, err) {
        if (settled) return false
        settled = true
        outcomes[i] = err === null ? { md: md! } : { err }
        done()
        return true
      },
    }
    acc.append('t', partition, rec, Date.now())
    sender.wake()
  }
  return { send, sender, outcomes, requests, ackAll, all: () => Promise.all(pending), maxConcurrent: () => maxConcurrent, resets: () => resets, metrics }
}

describe('Sender', () => {
  it('gives every record its own dense offset: base offset of its batch + index', async () => {
    const s = setup((b) => s.ackAll(b))
    for (let i = 0; i < 30; i++) s.send(i % 3, `v${i}`)
    await s.all()
    for (let p = 0; p < 3; p++) {
      const offsets = s.outcomes.filter((o) => o.md?.partition === p).map((o) => Number(o.md!.offset))
      expect(offsets).toEqual(Array.from({ length: 10 }, (_, i) => i))
    }
    expect(s.requests[0]!.partitions.sort()).toEqual([0, 1, 2])
    expect(s.metrics.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).recordsSent).toBe(30)
  })

  it('retries a retriable failure and keeps per-partition order', async () => {
    const s = setup((b, call) => (call === 0 ? 'retriable' : s.ackAll(b)))
    for (let i = 0; i < 5; i++) s.send(0, `v${i}`)
    await s.all()
    expect(s.outcomes.map((o) => o.md?.offset)).toEqual(['0', '1', '2', '3', '4'])
    expect(s.metrics.snapshot({ inUse: 0, capacity: 1, recordsInFlight: 0 }).retries).toBeGreaterThan(0)
  })

  it('isolates a non-retriable multi-partition failure so only the failing partition is rejected', async () => {
    const s = setup((b) => (b.some((x) => x.partition === 1) ? 'isolate' : s.ackAll(b)))
    for (let i = 0; i < 6; i++) s.send(i % 3, `v${i}`)
    await s.all()
    const failed = s.outcomes.flatMap((o, i) => (o.err !== undefined ? [i % 3] : []))
    expect(failed).toEqual([1, 1])
    expect(s.outcomes.filter((o) => o.md !== undefined)).toHaveLength(4)
  })

  it('with per-partition answers, acks the accepted partitions and resends only the refused one', async () => {
    const refusal = Object.assign(new Error('fake retriable'), { kind: 'retriable' as FailureKind })
    const s = setup((b, call) => {
      if (call > 0) return s.ackAll(b)
      const acks = s.ackAll(b.filter((x) => x.partition !== 1))
      const results: PartitionAckResult[] = b.map((x) => {
        const ack = acks.find((a) => a.partition === x.partition)
        return ack !== undefined ? { ...ack, error: null } : { topic: x.topic, partition: x.partition, baseOffset: '-1', logAppendTime: '-1', error: refusal }
      })
      return { kind: 'retriable', results }
    })
    for (let i = 0; i < 6; i++) s.send(i % 3, `v${i}`)
    await s.all()
    expect(s.outcomes.every((o) => o.md !== undefined)).toBe(true)
    expect(s.requests.map((r) => r.partitions.sort())).toEqual([[0, 1, 2], [1]])
    expect(s.outcomes.map((o) => `${o.md!.partition}@${o.md!.offset}`)).toEqual(['0@0', '1@0', '2@0', '0@1', '1@1', '2@1'])
  })

  it('a fatal sequence/epoch answer recreates the producer once, then resends the same batches in order', async () => {
    const s = setup((b, call) => (call === 0 ? 'reset' : s.ackAll(b)), { maxInFlight: 1 })
    for (let i = 0; i < 4; i++) s.send(0, `v${i}`)
    await s.all()
    expect(s.resets()).toBe(1)
    expect(s.outcomes.map((o) => o.md?.offset)).toEqual(['0', '1', '2', '3'])
    expect(s.requests[1]!.records).toBe(s.requests[0]!.records)
  })

  it('fails everything with FENCED once fenced, including records sent later', async () => {
    const s = setup(() => 'fenced')
    s.send(0, 'a')
    await s.all()
    expect(s.outcomes[0]!.err?.code).toBe('FENCED')
    s.send(0, 'b')
    await s.all()
    expect(s.outcomes[1]!.err?.code).toBe('FENCED')
    expect(s.sender.fenced?.code).toBe('FENCED')
  })

  it('expires records whose delivery timeout passed while retrying', async () => {
    const s = setup(() => 'retriable', { deliveryTimeoutMs: 30, retries: 2_147_483_647 })
    s.send(0, 'a')
    await s.all()
    expect(s.outcomes[0]!.err?.code).toBe('DELIVERY_TIMEOUT')
  })

  it('fails with the last error once retries are spent', async () => {
    const s = setup(() => 'retriable', { retries: 2 })
    s.send(0, 'a')
    await s.all()
    expect(s.outcomes[0]!.err?.code).toBe('KAFKA')
    expect(s.requests).toHaveLength(3)
  })

  it('keeps at most maxInFlightRequests requests in flight per broker', async () => {
    const s = setup((b) => s.ackAll(b), { maxInFlight: 1 })
    for (let i = 0; i < 200; i++) {
      s.send(i % 6, `v${i}`)
      if (i % 20 === 0) await new Promise((r) => setImmediate(r))
    }
    await s.all()
    expect(s.maxConcurrent()).toBe(1)
    expect(s.outcomes.every((o) => o.md !== undefined)).toBe(true)
  })
})
