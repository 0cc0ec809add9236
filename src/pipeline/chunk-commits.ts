/**
 * When the pipeline commits: at the end of every chunk of `maxPollRecords` input records of a fetched batch
 * (and the shorter last chunk), so one transaction holds one chunk. The batch loop asks its commit strategy
 * after every finished record; this strategy is told each batch's size and answers true at chunk ends. It
 * is named 'per-message' because the loop waits for a commit of that strategy before it goes on, as a
 * transaction per chunk needs.
 */
import type { CommitStrategy } from '../consumer/commit/index.js'

interface Progress {
  size: number
  done: number
}

export class ChunkCommits implements CommitStrategy {
  readonly name = 'per-message' as const
  readonly intervalMs = null
  readonly #batches = new Map<string, Progress>()

  constructor(private readonly chunkSize: number) {}

  /** A batch of `size` records of partition `key` starts (what came before it is over). */
  batch(key: string, size: number): void {
    this.#batches.set(key, { size, done: 0 })
  }

  processed(key: string, _now: number, count = 1): boolean {
    const p = this.#batches.get(key)
    if (p === undefined) return true
    p.done += count
    return p.done % this.chunkSize === 0 || p.done >= p.size
  }

  committed(): void {}
}
