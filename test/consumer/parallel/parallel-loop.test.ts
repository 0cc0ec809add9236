/** The parallel loop against fake fetched batches: key order, concurrency, back-pressure, retries per key, restore. */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveConsumerConfig } from '../../../src/config/index.js'
import type { ConsumerOptions } from '../../../src/config/index.js'
import type { FetchedBatch } from '../../../src/consumer/batch-loop.js'
import { createCommitStrategy } from '../../../src/consumer/commit/index.js'
import { GroupCommitter } from '../../../src/consumer/committer.js'
import { ConsumerMetricsRecorder } from '../../../src/consumer/metrics.js'
import type { TopicPartitionOffset } from '../../../src/consumer/offsets.js'
import { CompletionTracker } from '../../../src/consumer/parallel/completion.js'
import type { CommittedOffset } from '../../../src/consumer/parallel/parallel-loop.js'
import { ParallelLoop } from '../../../src/consumer/parallel/parallel-loop.js'
import type { RunHandlers } from '../../../src/consumer/types.js'
import type { KafkatuneError } from '../../../src/errors.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function harness(
  options: Partial<ConsumerOptions<string, string>>,
  handlers: RunHandlers<string, string>,
  committed: CommittedOffset = { offset: null, metadata: null },
  timing: { maxPollIntervalMs?: number } = {},
) {
  // Timing below what validation allows (a guard in milliseconds) is set on the resolved settings directly.
  const settings = { ...resolveConsumerConfig({ brokers: ['127.0.0.1:9'], groupId: 'g', topics: ['t'], logger: pino({ level: 'silent' }), ordering: 'key', ...options }), ...timing }
  const completion = new CompletionTracker(settings.offsetMetadataMaxBytes)
  const metrics = new ConsumerMetricsRecorder()
  const strategy = createCommitStrategy(settings.commit)
  const log = pino({ level: 'silent' })
  const commits: TopicPartitionOffset[][] = []
  const failed: KafkatuneError[] = []
  const deadLettered: string[] = []
  const committer = new GroupCommitter(completion, strategy, metrics, log, async (o) => void commits.push(o))
  let fatal = false
  let exceeded = 0
  let rejoins = 0
  const flow: string[] = []
  const loop = new ParallelLoop(settings, completion, committer, strategy, metrics, log, {
    handlers: () => handlers,
    halted: () => fatal,
    failed: () => fatal,
    abandoned: () => false,
    fail: (err) => {
      fatal = true
      failed.push(err)
    },
    deadLetter: async (raws) => void deadLettered.push(...raws.map((r) => r.offset)),
    emitExceeded: () => void exceeded++,
    restore: async () => committed,
    pause: (topic, partition) => void flow.push(`pause ${topic}/${partition}`),
    resume: (topic, partition) => void flow.push(`resume ${topic}/${partition}`),
    requestRejoin: () => {
      rejoins++
      return true
    },
  })
  metrics.parallel = loop
  return {
    loop,
    commits,
    failed,
    deadLettered,
    committer,
    metrics,
    completion,
    exceeded: () => exceeded,
    rejoins: () => rejoins,
    flow,
    halt: () => {
      fatal = true
    },
  }
}

function batch(h: { commits: TopicPartitionOffset[][] }, records: { key: string | null }[], from = 0): FetchedBatch & { resolved: string[] } {
  const resolved: string[] = []
  const last = String(from + records.length - 1)
  return {
    topic: 't',
    partition: 0,
    highWatermark: String(from + records.length),
    records: records.map((r, i) => ({ offset: String(from + i), timestamp: '0', key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(`v${from + i}`), headers: {} })),
    lastOffset: () => last,
    resolveOffset: (o) => void resolved.push(o),
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
    commit: async (o) => void h.commits.push(o),
    resolved,
  }
}

describe('ParallelLoop', () => {
  it("ordering 'key': each key in offset order, keys concurrently up to concurrency", async () => {
    const seen = new Map<string, number[]>()
    let running = 0
    let peak = 0
    const h = harness({ concurrency: 8, commit: { strategy: 'batch', size: 50 } }, {
      eachMessage: async (m) => {
        running++
        peak = Math.max(peak, running)
        await sleep(Math.floor(Math.random() * 4))
        const list = seen.get(m.key!) ?? []
        list.push(Number(m.offset))
        seen.set(m.key!, list)
        running--
      },
    })
    const recs = Array.from({ length: 400 }, (_, i) => ({ key: `k${i % 20}` }))
    await h.loop.run(batch(h, recs))
    await h.loop.idle()
    expect(peak).toBeLessThanOrEqual(8)
    expect(peak).toBeGreaterThan(1)
    for (const [, offsets] of seen) expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
    expect([...seen.values()].flat()).toHaveLength(400)
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '400' }])
  })

  it('null keys run concurrently, each its own key', async () => {
    let running = 0
    let peak = 0
    const h = harness({ concurrency: 4 }, {
      eachMessage: async () => {
        running++
        peak = Math.max(peak, running)
        await sleep(5)
        running--
      },
    })
    await h.loop.run(batch(h, Array.from({ length: 12 }, () => ({ key: null }))))
    await h.loop.idle()
    expect(peak).toBe(4)
  })

  it('a failing key retries without holding up other keys; the committed offset stays below it with a map above', async () => {
    const order: string[] = []
    let failures = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const h = harness({ concurrency: 4, retry: { attempts: 50, backoffMs: 5 } }, {
      eachMessage: async (m) => {
        if (m.key === 'bad') {
          failures++
          if (failures < 3) throw new Error('flaky')
          await gate
        }
        order.push(m.offset)
      },
    })
    await h.loop.run(batch(h, [{ key: 'bad' }, { key: 'a' }, { key: 'b' }, { key: 'a' }]))
    while (order.length < 3) await sleep(5)
    expect(order).toEqual(['1', '2', '3'])
    await h.committer.commitPending()
    const c = h.commits.at(-1)![0]!
    expect(c.offset).toBe('0')
    expect(c.metadata).toMatch(/^kt1:/)
    expect(h.metrics.snapshot()).toMatchObject({ offsetMapRecords: 3, queueDepth: { 't/0': 1 } })
    release()
    await h.loop.idle()
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '4' }])
    expect(h.metrics.snapshot().retries).toBe(2)
  })

  it('a record failing for good goes to the dead-letter topic and counts as finished', async () => {
    const h = harness({ concurrency: 2, deadLetterTopic: 'dlq' }, {
      eachMessage: async (m) => {
        if (m.offset === '1') throw new Error('bad')
      },
    })
    await h.loop.run(batch(h, [{ key: 'a' }, { key: 'a' }, { key: 'a' }]))
    await h.loop.idle()
    expect(h.deadLettered).toEqual(['1'])
    await h.committer.commitPending()
    expect(h.commits.at(-1)![0]!.offset).toBe('3')
  })

  it('back-pressure: a full partition keeps the rest of its batch, pauses its fetching, hands the rest out as room comes and resumes when it is all out', async () => {
    const gates: (() => void)[] = []
    const handled: number[] = []
    const h = harness({ concurrency: 2, maxPollRecords: 10 }, {
      eachMessage: async (m) => {
        await new Promise<void>((r) => gates.push(r))
        handled.push(Number(m.offset))
      },
    })
    expect(h.loop.maxPendingPerPartition).toBe(10)
    // 30 records over 3 keys: the call returns at once, 10 handed out, the fetch position past the batch.
    const first = batch(h, Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}` })))
    await h.loop.run(first)
    expect(first.resolved).toEqual(['29'])
    expect(h.flow).toEqual(['pause t/0'])
    expect(h.metrics.snapshot()).toMatchObject({ queueDepth: { 't/0': 10 } })
    // A batch fetched before the pause took effect is left alone (kafkajs fetches it again after the resume).
    const late = batch(h, Array.from({ length: 5 }, (_, i) => ({ key: `k${i % 3}` })), 30)
    await h.loop.run(late)
    expect(late.resolved).toEqual([])
    let peak = 0
    while (handled.length < 30) {
      while (gates.length === 0) await sleep(1)
      gates.shift()!()
      await sleep(0)
      peak = Math.max(peak, h.metrics.snapshot().queueDepth['t/0'] ?? 0)
      // Paused until the last of the backlog is handed out.
      if (handled.length < 20) expect(h.flow).toEqual(['pause t/0'])
    }
    await h.loop.idle()
    expect(peak).toBeLessThanOrEqual(10)
    expect(h.flow).toEqual(['pause t/0', 'resume t/0'])
    expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    for (const k of [0, 1, 2]) {
      const mine = handled.filter((o) => o % 3 === k)
      expect(mine).toEqual([...mine].sort((a, b) => a - b))
    }
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '30' }])
  })

  it('back-pressure on the offset-map limit: pauses before the map would outgrow the metadata, resumes when the gap closes', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const h = harness({ concurrency: 4, maxPollRecords: 100_000, offsetMetadataMaxBytes: 128 }, {
      eachMessage: async (m) => {
        if (m.offset === '0') await gate
      },
    })
    const b = batch(h, Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}` })))
    await h.loop.run(b)
    expect(h.flow).toEqual(['pause t/0'])
    await sleep(20)
    const pending = h.metrics.snapshot().queueDepth['t/0']!
    expect(pending).toBe(1)
    expect(h.metrics.snapshot().offsetMapRecords).toBeGreaterThan(50)
    expect(h.metrics.snapshot().offsetMapRecords).toBeLessThan(4999)
    await h.committer.commitPending()
    expect((h.commits.at(-1)![0]!.metadata ?? '').length).toBeLessThanOrEqual(128)
    release()
    await h.loop.idle()
    expect(h.flow).toEqual(['pause t/0', 'resume t/0'])
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '5000' }])
  })

  it('a reset (rejoin) resumes the partitions back-pressure paused', async () => {
    const h = harness({ concurrency: 1, maxPollRecords: 4 }, { eachMessage: () => new Promise(() => {}) })
    await h.loop.run(batch(h, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}` }))))
    expect(h.loop.holds('t', 0)).toBe(true)
    h.loop.reset()
    expect(h.flow).toEqual(['pause t/0', 'resume t/0'])
    expect(h.loop.holds('t', 0)).toBe(false)
  })

  it('skips records the restored offset map says finished, and counts them', async () => {
    const handled: string[] = []
    // Committed offset 2, offsets 3 and 5 finished before (run lengths: skip 0, 1 done, skip 1, 1 done).
    const h = harness({ concurrency: 2 }, { eachMessage: async (m) => void handled.push(m.offset) }, { offset: '2', metadata: 'kt1:r:2:AAEBAQ' })
    await h.loop.run(batch(h, Array.from({ length: 6 }, () => ({ key: 'k' })), 2))
    await h.loop.idle()
    expect(handled).toEqual(['2', '4', '6', '7'])
    expect(h.metrics.snapshot().skippedOnRestore).toBe(2)
  })

  it('eachBatch is refused with a typed error', async () => {
    const h = harness({}, { eachBatch: async () => {} })
    await h.loop.run(batch(h, [{ key: 'a' }]))
    expect(h.failed[0]?.code).toBe('CONFIG_INVALID')
  })

  it.each([
    { strategy: 'per-message' },
    { strategy: 'batch', size: 7 },
    { strategy: 'interval', intervalMs: 100 },
    { strategy: 'hybrid', size: 7, intervalMs: 100 },
    { strategy: 'auto', intervalMs: 100 },
  ] as const)('commit strategy $strategy: commits never pass an unfinished record and end at the last one', async (commit) => {
    const open = new Set<number>()
    const h = harness({ concurrency: 6, commit }, {
      eachMessage: async (m) => {
        open.add(Number(m.offset))
        await sleep(Math.floor(Math.random() * 3))
        open.delete(Number(m.offset))
      },
    })
    // Each commit is checked against the records unfinished when it was sent.
    const seen: { offset: number; unfinished: number[] }[] = []
    const push = h.commits.push.bind(h.commits)
    h.commits.push = (...items) => {
      for (const c of items) seen.push({ offset: Number(c[0]!.offset), unfinished: [...open] })
      return push(...items)
    }
    await h.loop.run(batch(h, Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 9}` }))))
    await h.loop.idle()
    await h.committer.commitPending()
    for (const c of seen) for (const o of c.unfinished) expect(c.offset).toBeLessThanOrEqual(o)
    expect(h.commits.at(-1)![0]!.offset).toBe('60')
    if (commit.strategy === 'per-message' || commit.strategy === 'batch') expect(seen.length).toBeGreaterThan(1)
  })

  it('maxPollIntervalMs per record: an overrun gives the record up (never committed past), asks for a rejoin and goes on; after it the record is handled again', async () => {
    const committed: CommittedOffset = { offset: null, metadata: null }
    const handled: string[] = []
    let hung = 0
    let abortedOthers = 0
    const h = harness({ concurrency: 4 }, {
      eachMessage: async (m, ctx) => {
        if (m.offset === '1' && hung++ === 0) {
          // Hangs past the guard, ignoring the signal for a while, then returns: its result is not recorded.
          await sleep(400)
          return
        }
        await sleep(m.key === 'a' ? 0 : 5)
        if (ctx.signal.aborted) abortedOthers++
        handled.push(m.offset)
      },
    }, committed, { maxPollIntervalMs: 150 })
    // Offset 1 is key 'a'; offsets 3 and 5 are key 'a' too and wait behind it; the other keys go on.
    const keys = ['x', 'a', 'y', 'a', 'z', 'a', 'w', 'v']
    await h.loop.run(batch(h, keys.map((key) => ({ key }))))
    await h.loop.idle()
    expect(h.exceeded()).toBe(1)
    expect(h.rejoins()).toBe(1)
    expect(h.failed).toEqual([])
    expect(abortedOthers).toBe(0)
    expect([...handled].sort()).toEqual(['0', '2', '4', '6', '7'])
    await h.committer.commitPending()
    const last = h.commits.at(-1)![0]!
    expect(last.offset).toBe('1')
    // What the rejoin does: drain, commit (done above), the next join reads the commit back and fetches from it.
    await h.loop.drain()
    h.loop.reset()
    committed.offset = last.offset
    committed.metadata = last.metadata ?? null
    await h.loop.run(batch(h, keys.slice(1).map((key) => ({ key })), 1))
    await h.loop.idle()
    h.loop.stopGuard()
    expect(handled.slice(5)).toEqual(['1', '3', '5'])
    expect(h.metrics.snapshot().skippedOnRestore).toBe(4)
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '8' }])
    await sleep(300)
    expect(h.exceeded()).toBe(1)
  })

  it('halting drains the records running and leaves the queued ones uncommitted', async () => {
    const started: string[] = []
    const h = harness({ concurrency: 2 }, {
      eachMessage: async (m) => {
        started.push(m.offset)
        await sleep(30)
      },
    })
    await h.loop.run(batch(h, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}` }))))
    await sleep(5)
    h.halt()
    await h.loop.idle()
    expect(started).toEqual(['0', '1'])
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '2' }])
  })

  it('drain (before a rejoin) lets the running records finish, starts no more, and the next join starts afresh', async () => {
    const started: string[] = []
    const h = harness({ concurrency: 2 }, {
      eachMessage: async (m) => {
        started.push(m.offset)
        await sleep(20)
      },
    })
    await h.loop.run(batch(h, Array.from({ length: 6 }, (_, i) => ({ key: `k${i}` }))))
    await sleep(5)
    await h.loop.drain()
    expect(started).toEqual(['0', '1'])
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '2' }])
    h.loop.reset()
    await h.loop.run(batch(h, Array.from({ length: 4 }, (_, i) => ({ key: `k${i}` })), 2))
    await h.loop.idle()
    expect(started).toEqual(['0', '1', '2', '3', '4', '5'])
  })

  it("ordering 'unordered': records of one key run concurrently too", async () => {
    let running = 0
    let peak = 0
    const h = harness({ ordering: 'unordered', concurrency: 5 }, {
      eachMessage: async () => {
        running++
        peak = Math.max(peak, running)
        await sleep(5)
        running--
      },
    })
    await h.loop.run(batch(h, Array.from({ length: 20 }, () => ({ key: 'same' }))))
    await h.loop.idle()
    expect(peak).toBe(5)
    await h.committer.commitPending()
    expect(h.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '20' }])
  })
})
