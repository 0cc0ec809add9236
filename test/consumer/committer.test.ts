/** GroupCommitter: background commits never pile up behind a slow one, and the strategy restarts when a commit takes its offsets. */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createCommitStrategy } from '../../src/consumer/commit/index.js'
import { GroupCommitter } from '../../src/consumer/committer.js'
import { ConsumerMetricsRecorder } from '../../src/consumer/metrics.js'
import { OffsetTracker } from '../../src/consumer/offsets.js'
import type { TopicPartitionOffset } from '../../src/consumer/offsets.js'

/** A commit function whose calls stay open until the test lets them land. */
function gatedCommits() {
  const calls: { offsets: TopicPartitionOffset[]; land: () => void; fail: (err: Error) => void }[] = []
  const commit = (offsets: TopicPartitionOffset[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ offsets, land: resolve, fail: reject })
    })
  return { calls, commit }
}

const settle = () => new Promise<void>((r) => setImmediate(r))

function setup(config: Parameters<typeof createCommitStrategy>[0]) {
  const tracker = new OffsetTracker()
  const strategy = createCommitStrategy(config)
  const metrics = new ConsumerMetricsRecorder()
  const gate = gatedCommits()
  const committer = new GroupCommitter(tracker, strategy, metrics, pino({ level: 'silent' }), gate.commit)
  /** What the batch loop does per finished record. */
  const finish = (offset: number, now = 0) => {
    tracker.finished('t', 0, String(offset))
    if (strategy.processed('0:t', now)) committer.commitSoon()
  }
  return { tracker, strategy, metrics, committer, finish, ...gate }
}

describe('GroupCommitter', () => {
  it('records finished while a commit is in flight queue one more commit at most, which takes all of them', async () => {
    const s = setup({ strategy: 'hybrid', size: 2, intervalMs: 60_000 })
    s.finish(0)
    s.finish(1) // size reached: commit 1 takes offset 2
    await settle()
    expect(s.calls.map((c) => c.offsets[0]!.offset)).toEqual(['2'])
    // 20 more records during its round trip: 10 times the size, yet one queued commit.
    for (let o = 2; o < 22; o++) {
      s.finish(o)
      s.committer.commitSoon()
    }
    await settle()
    expect(s.calls).toHaveLength(1)
    s.calls[0]!.land()
    await settle()
    expect(s.calls.map((c) => c.offsets[0]!.offset)).toEqual(['2', '22'])
    // One more record, below the size: nothing left in the queue commits it behind the strategy's back.
    s.finish(22)
    s.calls[1]!.land()
    await settle()
    expect(s.calls).toHaveLength(2)
    expect(s.metrics.commits).toBe(2)
    expect(s.tracker.pending().map((o) => o.offset)).toEqual(['23'])
  })

  it('the strategy restarts when a commit takes the offsets, so records finished during its round trip count toward the next one', async () => {
    const s = setup({ strategy: 'batch', size: 3 })
    for (let o = 0; o < 3; o++) s.finish(o)
    await settle()
    expect(s.calls).toHaveLength(1)
    // Still in flight: two records are below the size and ask for nothing; the third does.
    expect(s.strategy.processed('0:t', 0)).toBe(false)
    expect(s.strategy.processed('0:t', 0)).toBe(false)
    expect(s.strategy.processed('0:t', 0)).toBe(true)
    s.calls[0]!.land()
    await settle()
  })

  it('a failed background commit leaves its offsets pending, and the next finished record asks again (below the size)', async () => {
    const s = setup({ strategy: 'batch', size: 3 })
    for (let o = 0; o < 3; o++) s.finish(o)
    await settle()
    s.calls[0]!.fail(new Error('coordinator moved'))
    await settle()
    expect(s.metrics.commitFailures).toBe(1)
    expect(s.tracker.pending().map((o) => o.offset)).toEqual(['3'])
    s.finish(3)
    await settle()
    expect(s.calls[1]!.offsets.map((o) => o.offset)).toEqual(['4'])
    s.calls[1]!.land()
    await settle()
    expect(s.tracker.pending()).toEqual([])
  })

  it('commitPending is never folded into a queued background commit: it resolves after its own commit', async () => {
    const s = setup({ strategy: 'batch', size: 1 })
    s.finish(0)
    await settle()
    s.tracker.finished('t', 0, '1')
    s.committer.commitSoon()
    let done = false
    const explicit = s.committer.commitPending().then(() => (done = true))
    s.calls[0]!.land()
    await settle()
    // The queued background commit took offset 2; the explicit one finds nothing left and resolves.
    expect(s.calls.map((c) => c.offsets[0]!.offset)).toEqual(['1', '2'])
    expect(done).toBe(false)
    s.calls[1]!.land()
    await explicit
    expect(done).toBe(true)
    expect(s.calls).toHaveLength(2)
  })
})
