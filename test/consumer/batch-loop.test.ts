/** The batch loop against fake fetched batches: chunks, commits per strategy, retries, dead letters, guards, revocation. */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveConsumerConfig } from '../../src/config/index.js'
import type { ConsumerOptions } from '../../src/config/index.js'
import { BatchLoop } from '../../src/consumer/batch-loop.js'
import type { FetchedBatch } from '../../src/consumer/batch-loop.js'
import { createCommitStrategy } from '../../src/consumer/commit/index.js'
import { GroupCommitter } from '../../src/consumer/committer.js'
import type { RawRecord } from '../../src/consumer/dead-letter.js'
import { ConsumerMetricsRecorder } from '../../src/consumer/metrics.js'
import { OffsetTracker } from '../../src/consumer/offsets.js'
import type { TopicPartitionOffset } from '../../src/consumer/offsets.js'
import type { RunHandlers } from '../../src/consumer/types.js'
import type { KafkatuneError } from '../../src/errors.js'

interface Harness {
  loop: BatchLoop<string, string>
  commits: TopicPartitionOffset[][]
  failed: KafkatuneError[]
  deadLettered: { offsets: string[]; attempts: number }[]
  exceeded: number
  tracker: OffsetTracker
}

function harness(options: Partial<ConsumerOptions<string, string>>, handlers: RunHandlers<string, string>, timing: { maxPollIntervalMs?: number } = {}): Harness {
  // Timing below what validation allows (a guard in milliseconds) is set on the resolved settings directly.
  const settings = { ...resolveConsumerConfig({ brokers: ['127.0.0.1:9'], groupId: 'g', topics: ['t'], logger: pino({ level: 'silent' }), ...options }), ...timing }
  const tracker = new OffsetTracker()
  const metrics = new ConsumerMetricsRecorder()
  const strategy = createCommitStrategy(settings.commit)
  const h: Harness = { commits: [], failed: [], deadLettered: [], exceeded: 0, tracker } as unknown as Harness
  const log = pino({ level: 'silent' })
  const committer = new GroupCommitter(tracker, strategy, metrics, log, async (o) => void h.commits.push(o))
  let fatal = false
  h.loop = new BatchLoop(settings, tracker, committer, strategy, metrics, log, {
    handlers: () => handlers,
    halted: () => fatal,
    failed: () => fatal,
    abandoned: () => false,
    fail: (err) => {
      fatal = true
      h.failed.push(err)
    },
    deadLetter: async (raws: RawRecord[], _err, attempts) => void h.deadLettered.push({ offsets: raws.map((r) => r.offset), attempts }),
    emitExceeded: () => void h.exceeded++,
  })
  return h
}

function batch(h: Harness, count: number, overrides: Partial<FetchedBatch> = {}): FetchedBatch & { resolved: string[] } {
  const resolved: string[] = []
  return {
    topic: 't',
    partition: 0,
    highWatermark: String(count),
    records: Array.from({ length: count }, (_, i) => ({ offset: String(i), timestamp: '0', key: null, value: Buffer.from(`v${i}`), headers: {} })),
    lastOffset: () => String(count - 1),
    resolveOffset: (o) => void resolved.push(o),
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
    commit: async (o) => void h.commits.push(o),
    resolved,
    ...overrides,
  }
}

const lastCommitted = (h: Harness) => h.commits.at(-1)?.[0]?.offset

describe('BatchLoop', () => {
  it('per-message: one commit per record, in order, and the fetch position moves per chunk', async () => {
    const seen: string[] = []
    const h = harness({ commit: { strategy: 'per-message' }, maxPollRecords: 2 }, { eachMessage: async (m) => void seen.push(m.value!) })
    const b = batch(h, 5)
    await h.loop.run(b)
    expect(seen).toEqual(['v0', 'v1', 'v2', 'v3', 'v4'])
    expect(h.commits.map((c) => c[0]!.offset)).toEqual(['1', '2', '3', '4', '5'])
    expect(b.resolved).toEqual(['1', '3', '4'])
  })

  it('batch strategy commits every `size` records; eachBatch calls never exceed maxPollRecords', async () => {
    const sizes: number[] = []
    const h = harness({ commit: { strategy: 'batch', size: 4 }, maxPollRecords: 3 }, { eachBatch: async (ms) => void sizes.push(ms.length) })
    await h.loop.run(batch(h, 10))
    await new Promise((r) => setImmediate(r))
    expect(sizes).toEqual([3, 3, 3, 1])
    // 3 + 3 records reach size 4 -> commit at 6; 3 + 1 more reach it again -> commit at 10.
    expect(h.commits.map((c) => c[0]!.offset)).toEqual(['6', '10'])
    expect(h.tracker.pending()).toEqual([])
  })

  it('retries a failing record, then dead-letters it with its attempt count and goes on', async () => {
    const calls = new Map<string, number>()
    const h = harness(
      { commit: { strategy: 'per-message' }, retry: { attempts: 3, backoffMs: 1 }, deadLetterTopic: 'dlq' },
      {
        eachMessage: async (m) => {
          calls.set(m.offset, (calls.get(m.offset) ?? 0) + 1)
          if (m.offset === '1' && calls.get('1')! < 2) throw new Error('flaky')
          if (m.offset === '2') throw new Error('poison')
        },
      },
    )
    await h.loop.run(batch(h, 4))
    expect(Object.fromEntries(calls)).toEqual({ '0': 1, '1': 2, '2': 3, '3': 1 })
    expect(h.deadLettered).toEqual([{ offsets: ['2'], attempts: 3 }])
    expect(lastCommitted(h)).toBe('4')
  })

  it('without a dead-letter topic a failing record stops the consumer and stays uncommitted', async () => {
    const h = harness({ commit: { strategy: 'per-message' } }, { eachMessage: async (m) => { if (m.offset === '2') throw new Error('poison') } })
    await h.loop.run(batch(h, 5))
    expect(h.failed.map((e) => e.code)).toEqual(['HANDLER_FAILED'])
    expect(h.failed[0]!.message).toContain('t[0]@2')
    expect(lastCommitted(h)).toBe('2')
  })

  it('a rebalance seen by the heartbeat between chunks: what finished is committed, the error goes back to the fetcher', async () => {
    const h = harness({ commit: { strategy: 'batch', size: 1000 }, maxPollRecords: 2 }, { eachMessage: async () => {} })
    const rebalance = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' })
    const b = batch(h, 6, { heartbeat: async () => { throw rebalance } })
    await expect(h.loop.run(b)).rejects.toBe(rebalance)
    // One chunk ran, the heartbeat after it failed: the chunk's offsets were committed on revoke, nothing after.
    expect(h.commits.map((c) => c[0]!.offset)).toEqual(['2'])
  })

  it('a handler call that outlives maxPollIntervalMs is reported, aborted and never committed', async () => {
    let aborted = false
    const h = harness(
      { commit: { strategy: 'per-message' }, heartbeatIntervalMs: 10 },
      {
        eachMessage: async (m, { signal }) => {
          if (m.offset !== '1') return
          signal.addEventListener('abort', () => (aborted = true))
          await new Promise((r) => setTimeout(r, 200))
        },
      },
      { maxPollIntervalMs: 50 },
    )
    await h.loop.run(batch(h, 3))
    expect(h.exceeded).toBe(1)
    expect(aborted).toBe(true)
    expect(h.commits.map((c) => c[0]!.offset)).toEqual(['1'])
    expect(h.tracker.pending()).toEqual([])
  })
})
