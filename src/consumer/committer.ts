/**
 * Group offset commits: what the loop finished (the `OffsetTracker`) goes to the group coordinator, one
 * commit at a time, when the commit strategy says so, on revoke and on stop.
 */
import type { Logger } from '../logging/types.js'
import type { CommitStrategy } from './commit/index.js'
import type { ConsumerMetricsRecorder } from './metrics.js'
import { partitionKey } from './offsets.js'
import type { TopicPartitionOffset } from './offsets.js'

/** Where finished offsets come from: the `OffsetTracker` (in order) or the `CompletionTracker` (out of order). */
export interface OffsetSource {
  pending(): TopicPartitionOffset[]
  committed(offsets: readonly TopicPartitionOffset[]): void
}

/** Sends one offset commit. */
export type CommitFn = (offsets: TopicPartitionOffset[]) => Promise<void>

/**
 * What the batch loop and membership need of a committer: commit what finished, now or soon. Two
 * implementations: `GroupCommitter` (offset commits to the group coordinator, by the commit strategy) and
 * the pipeline's `TransactionalCommitter` (outputs and offsets in one transaction, `tx.sendOffsets`).
 */
export interface OffsetCommitter {
  /** The fetch loop's own commit path for the batches that follow (null: none). */
  useDirect(commit: CommitFn | null): void
  /** Commits everything finished and not yet committed (only the partitions in `only`, when given). */
  commitPending(commit?: CommitFn, only?: ReadonlySet<string>): Promise<void>
  /** Commits in the background; a failure is only logged. */
  commitSoon(commit?: CommitFn): void
}

/** Commits finished offsets; commits never overlap. */
export class GroupCommitter implements OffsetCommitter {
  #chain: Promise<void> = Promise.resolve()
  /** The fetch loop's own commit path (straight to the coordinator, one attempt), once a batch provided one. */
  #direct: CommitFn | null = null
  /** A background commit is queued behind the one in flight and has not taken its offsets yet. */
  #soonQueued = false

  constructor(
    private readonly tracker: OffsetSource,
    private readonly strategy: CommitStrategy,
    private readonly metrics: ConsumerMetricsRecorder,
    private readonly log: Logger,
    /** Used until a batch provided its direct commit (kafkajs' `commitOffsets`, which retries through rebalances). */
    private readonly fallback: CommitFn,
  ) {}

  /** Background commits go straight to the coordinator from now on (set from each fetched batch). */
  useDirect(commit: CommitFn | null): void {
    this.#direct = commit
  }

  /** The commit path for background and final commits. */
  get background(): CommitFn {
    return (offsets) => (this.#direct ?? this.fallback)(offsets)
  }

  /** Commits everything finished and not yet committed (only the partitions in `only`, when given). */
  commitPending(commit: CommitFn = this.background, only?: ReadonlySet<string>): Promise<void> {
    return this.#enqueue(commit, only, null)
  }

  /**
   * Commits in the background; a failure is only logged (the next commit carries the same offsets). While one
   * background commit waits behind the commit in flight, more calls join it: it takes every offset finished by
   * the time it starts. Without that, each record finished during a commit's round trip queued one more commit,
   * and a busy consumer committed back to back (about 60 commits/s at 1,000 records/s with hybrid size 10).
   */
  commitSoon(commit?: CommitFn): void {
    if (this.#soonQueued) return
    this.#soonQueued = true
    this.#enqueue(commit ?? this.background, undefined, () => (this.#soonQueued = false)).catch((err: unknown) => this.log.debug({ err }, 'commit failed; the next one retries'))
  }

  #enqueue(commit: CommitFn, only: ReadonlySet<string> | undefined, onStart: (() => void) | null): Promise<void> {
    const run = this.#chain.then(async () => {
      onStart?.()
      const pending = this.tracker.pending().filter((o) => only === undefined || only.has(partitionKey(o.topic, o.partition)))
      if (pending.length === 0) return
      // The strategy's counters restart when a commit takes the finished offsets, not when it lands: records
      // finished during its round trip count toward the next commit instead of each asking for one now.
      this.strategy.committed(Date.now())
      const started = Date.now()
      try {
        await commit(pending)
      } catch (err) {
        this.metrics.commitFailures++
        this.strategy.failed?.()
        throw err
      }
      this.tracker.committed(pending)
      this.metrics.commitDone(Date.now() - started, pending)
      this.log.debug({ offsets: pending }, 'committed offsets')
    })
    this.#chain = run.catch(() => {})
    return run
  }
}
