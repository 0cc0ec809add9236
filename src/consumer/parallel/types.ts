/** What the parallel loop asks of the consumer around it, and what it reports. */
import type { BatchLoopHost, FetchedRecord } from '../batch-loop.js'
import type { HandlerContext } from '../types.js'
import type { Job } from './record-outcome.js'
import type { KeyScheduler, RunnerSlot } from './scheduler.js'

/** The committed offset and metadata of one partition, as the group coordinator has them. */
export interface CommittedOffset {
  offset: string | null
  metadata: string | null
}

export interface ParallelLoopHost<K, V> extends BatchLoopHost<K, V> {
  /** Reads back the committed offset and metadata of a partition this member just got. */
  restore(topic: string, partition: number): Promise<CommittedOffset>
  /** Stops fetching a partition (back-pressure). */
  pause(topic: string, partition: number): void
  /** Fetches a partition paused by `pause` again (unless the application paused it too). */
  resume(topic: string, partition: number): void
  /**
   * Makes the member leave the group and join again (a record outlived maxPollIntervalMs); false when it cannot,
   * and the consumer then stops instead.
   */
  requestRejoin(): boolean
}

/** What the metrics snapshot shows of out-of-order processing. */
export interface ParallelGauges {
  inFlight: number
  queueDepth: Record<string, number>
  keysWaiting: number
  offsetMapRecords: number
}

/** One p-queue task taking records from the scheduler: the guard watches the record it runs. */
export interface Runner extends RunnerSlot<Job> {
  current: Job | null
  startedAt: number
  /** The guard gave its record up: nothing it finishes is recorded. */
  abandoned: boolean
  readonly scheduler: KeyScheduler<Job>
  /** Per runner, not per record: aborting it reaches the handler running on this runner only. */
  readonly controller: AbortController
  readonly context: HandlerContext
}

/** The records of a fetched batch that did not fit yet. */
export interface Backlog {
  readonly records: readonly FetchedRecord[]
  index: number
  readonly lastOffset: string
}
