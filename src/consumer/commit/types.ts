import type { CommitStrategyConfig } from '../../config/types.js'

/**
 * The small interface the consumer loop calls to decide when to commit.
 * A strategy only decides *when*; the loop owns *what* (the offsets of finished records).
 */
export interface CommitStrategy {
  /** The strategy's name as written in the options. */
  readonly name: CommitStrategyConfig['strategy']
  /** Period of the background commit timer in ms, or `null` when the strategy never commits on time alone. */
  readonly intervalMs: number | null
  /** `count` records (default 1) of partition `partitionKey` finished at `now` (ms); `true` asks the loop to commit now. */
  processed(partitionKey: string, now: number, count?: number): boolean
  /** A commit took everything finished so far at `now` (it is in flight); counters restart. */
  committed(now: number): void
  /** That commit failed: ask for a commit at the next finished record, as if the counters had not restarted. */
  failed?(): void
}
