/**
 * The pipeline's committer against a fake producer pool (the transaction outcomes are scripted): what it
 * commits, and what it reads again after fencing, lost answers, stale offsets and transient failures.
 */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { OffsetTracker } from '../../src/consumer/offsets.js'
import { KafkatuneError } from '../../src/errors.js'
import type { ProducerPool, StagedRecord } from '../../src/pipeline/producer-pool.js'
import { StagedOutputs } from '../../src/pipeline/staged.js'
import { TransactionalCommitter } from '../../src/pipeline/transactional-committer.js'
import type { CommitterMetrics } from '../../src/pipeline/transactional-committer.js'

type Step = 'ok' | KafkatuneError

function setup(opts: { steps?: Step[]; committed?: string; exactlyOnce?: boolean; gate?: Promise<void> } = {}) {
  const steps = [...(opts.steps ?? [])]
  const sent: { txn: number; values: unknown[]; offsets: unknown[] }[] = []
  const dropped: string[] = []
  const rewinds: string[] = []
  const failures: KafkatuneError[] = []
  const groupCommits: unknown[] = []
  let txn = 0
  let fresh = opts.committed !== undefined
  const pooled = {
    get fresh() {
      return fresh
    },
    set fresh(v: boolean) {
      fresh = v
    },
    producer: {
      async transaction(fn: (tx: unknown) => Promise<void>) {
        const mine = { txn: ++txn, values: [] as unknown[], offsets: [] as unknown[] }
        await fn({
          send: async (r: { value: unknown }) => void mine.values.push(r.value),
          sendOffsets: async (a: { offsets: unknown[] }) => void mine.offsets.push(...a.offsets),
        })
        // A transaction in flight until the test opens the gate.
        if (opts.gate !== undefined) await opts.gate
        const step = steps.shift() ?? 'ok'
        if (step !== 'ok') throw step
        sent.push(mine)
      },
      async send(r: { value: unknown }) {
        sent.push({ txn: 0, values: [r.value], offsets: [] })
      },
      metrics: () => ({ retries: 0 }),
    },
    send: <T>(s: StagedRecord<string, string>, fn: (r: StagedRecord<string, string>['record']) => T) => fn(s.record),
  }
  const pool = {
    get: async () => pooled,
    drop: async (t: string, p: number) => void dropped.push(`${t}/${p}`),
    markFresh: () => (fresh = true),
  } as unknown as ProducerPool<string, string>
  const tracker = new OffsetTracker()
  const staged = new StagedOutputs<string, string>()
  const metrics: CommitterMetrics = { inputRecords: 0, outputRecords: 0, transactionsCommitted: 0, transactionsAborted: 0, fencedProducers: 0, transactionRetries: 0 }
  let committing = true
  const rewinding = new Set<string>()
  const committer = new TransactionalCommitter<string, string>({
    tracker,
    staged,
    pool,
    groupId: 'g',
    clientId: 'c',
    exactlyOnce: opts.exactlyOnce ?? true,
    retryBackoffMs: 1,
    retryBackoffMaxMs: 2,
    metrics,
    log: pino({ level: 'silent' }),
    host: {
      committing: () => committing,
      stopping: () => false,
      rewinding: (t, p) => rewinding.has(`${t}/${p}`),
      rewind: (t, p, o) => void rewinds.push(`${t}/${p}@${o}`),
      committedOffset: async () => opts.committed,
      fail: (e) => void failures.push(e),
    },
    fallback: async (offsets) => void groupCommits.push(...offsets),
  })
  /** Records `from`..`to-1` of in/0 transformed (one output each) and finished. */
  const handle = (from: number, to: number) => {
    for (let o = from; o < to; o++) {
      staged.stage('in', 0, String(o), [{ record: { topic: 'out', value: `v${o}` }, keyBytes: null, valueBytes: null }])
      tracker.finished('in', 0, String(o))
    }
  }
  return { committer, tracker, staged, metrics, sent, dropped, rewinds, failures, groupCommits, rewinding, stop: () => (committing = false), handle }
}

const fenced = () => new KafkatuneError('FENCED', 'fenced', { retriable: false })

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {}
  const promise = new Promise<void>((resolve) => {
    open = () => resolve()
  })
  return { promise, open }
}

const ticks = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

describe('TransactionalCommitter', () => {
  it('commits the staged outputs and the next offset in one transaction', async () => {
    const t = setup()
    t.handle(0, 3)
    await t.committer.commitPending()
    expect(t.sent).toEqual([{ txn: 1, values: ['v0', 'v1', 'v2'], offsets: [{ topic: 'in', partition: 0, offset: '3' }] }])
    expect(t.tracker.pending()).toEqual([])
    expect(t.staged.first('in', 0)).toBeUndefined()
    expect(t.metrics).toMatchObject({ inputRecords: 3, outputRecords: 3, transactionsCommitted: 1 })
  })

  it('fenced: drops the producer, forgets the progress and reads the partition again from its first uncommitted record', async () => {
    const t = setup({ steps: [fenced()] })
    t.handle(5, 8)
    await t.committer.commitPending()
    expect(t.sent).toEqual([])
    expect(t.dropped).toEqual(['in/0'])
    expect(t.rewinds).toEqual(['in/0@5'])
    expect(t.tracker.pending()).toEqual([])
    expect(t.metrics).toMatchObject({ fencedProducers: 1, transactionsAborted: 1, transactionsCommitted: 0 })
  })

  it('a fresh producer skips records an earlier owner committed', async () => {
    const t = setup({ committed: '7' })
    t.handle(5, 10)
    await t.committer.commitPending()
    expect(t.sent).toEqual([])
    expect(t.rewinds).toEqual(['in/0@7'])
    expect(t.metrics.inputRecords).toBe(0)
  })

  it('a transient failure is retried; a lost commit answer is settled by the committed offset, not resent', async () => {
    const lost = new KafkatuneError('KAFKA', 'commit answer lost', { retriable: true })
    const t = setup({ steps: [lost] })
    t.handle(0, 4)
    await t.committer.commitPending()
    expect(t.sent.map((s) => s.values)).toEqual([['v0', 'v1', 'v2', 'v3']])
    expect(t.metrics).toMatchObject({ transactionRetries: 1, transactionsAborted: 1, transactionsCommitted: 1 })

    // The same failure when the commit did happen: the check after the new producer id finds it committed.
    const u = setup({ steps: [lost], committed: '4' })
    u.handle(0, 4)
    // Not fresh at first (a producer that committed before), fresh after the failure.
    ;(await (u.committer as unknown as { o: { pool: ProducerPool<string, string> } }).o.pool.get('in', 0)).fresh = false
    await u.committer.commitPending()
    expect(u.sent).toEqual([])
    expect(u.metrics).toMatchObject({ transactionsCommitted: 1, inputRecords: 4 })
    expect(u.tracker.pending()).toEqual([])
  })

  it('records this member committed that come back (a stale offset read after a rejoin) are skipped, never committed twice', async () => {
    const t = setup()
    t.handle(0, 5)
    await t.committer.commitPending()
    t.tracker.forget('in', 0)
    t.handle(3, 8)
    await t.committer.commitPending()
    expect(t.sent).toHaveLength(1)
    expect(t.rewinds).toEqual(['in/0@5'])
  })

  it('a non-retriable failure stops the pipeline; after that, and for a partition being read again, nothing is committed', async () => {
    const t = setup({ steps: [new KafkatuneError('TRANSACTION_ABORTED', 'record too large', { retriable: false })] })
    t.handle(0, 2)
    await t.committer.commitPending()
    expect(t.failures.map((f) => f.code)).toEqual(['TRANSACTION_ABORTED'])
    expect(t.rewinds).toEqual(['in/0@0'])
    t.handle(0, 2)
    t.rewinding.add('in/0')
    await t.committer.commitPending()
    t.rewinding.clear()
    t.stop()
    await t.committer.commitPending()
    expect(t.sent).toEqual([])
  })

  it('release: a revoked partition\'s producer closes only after its transaction in flight committed', async () => {
    const g = gate()
    const t = setup({ gate: g.promise })
    t.handle(0, 3)
    const commit = t.committer.commitPending()
    await ticks()
    // The rebalance: the partition is another member's and read again; its producer is released mid-transaction.
    t.rewinding.add('in/0')
    const released = t.committer.release([{ topic: 'in', partition: 0 }], () => false)
    await ticks()
    expect({ sent: t.sent, dropped: t.dropped }).toEqual({ sent: [], dropped: [] })
    g.open()
    await Promise.all([commit, released])
    expect(t.sent.map((s) => s.offsets)).toEqual([[{ topic: 'in', partition: 0, offset: '3' }]])
    expect(t.dropped).toEqual(['in/0'])
    // Records of the revoked partition finished later are never committed by this member.
    t.handle(3, 5)
    await t.committer.commitPending()
    await t.committer.idle()
    expect(t.sent).toHaveLength(1)
    expect(t.dropped).toEqual(['in/0'])
  })

  it('release: a transaction of a partition revoked meanwhile is not retried, and its producer closes after it aborted', async () => {
    const g = gate()
    const t = setup({ gate: g.promise, steps: [new KafkatuneError('KAFKA', 'coordinator moved', { retriable: true })] })
    t.handle(0, 4)
    const commit = t.committer.commitPending()
    await ticks()
    t.rewinding.add('in/0')
    const released = t.committer.release([{ topic: 'in', partition: 0 }], () => false)
    g.open()
    await Promise.all([commit, released])
    expect(t.sent).toEqual([])
    expect(t.metrics).toMatchObject({ transactionsAborted: 1, transactionRetries: 0, transactionsCommitted: 0, inputRecords: 0 })
    expect(t.dropped).toEqual(['in/0'])
  })

  it('release: a partition owned again before its turn keeps its producer; idle() waits for every release', async () => {
    const t = setup()
    let owned = false
    const released = t.committer.release([{ topic: 'in', partition: 0 }, { topic: 'in', partition: 1 }], (_topic, partition) => owned && partition === 0)
    owned = true
    await t.committer.idle()
    await released
    expect(t.dropped).toEqual(['in/1'])
  })

  it('without exactly-once: outputs first, then the group commit', async () => {
    const t = setup({ exactlyOnce: false })
    t.handle(0, 2)
    await t.committer.commitPending()
    expect(t.sent.map((s) => s.values)).toEqual([['v0'], ['v1']])
    expect(t.groupCommits).toEqual([{ topic: 'in', partition: 0, offset: '2' }])
    expect(t.tracker.pending()).toEqual([])
  })
})
