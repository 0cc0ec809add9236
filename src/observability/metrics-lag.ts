/**
 * Lag per assigned partition, as Java's `records-lag`: the high watermark minus the position (the next
 * offset to hand out). Every assigned partition counts from the moment it is assigned: one ListOffsets
 * and one OffsetFetch per topic at assignment give its high watermark and start position (`seedLag`);
 * from then on each fetch response's high watermark and the consumer's progress keep it current, with
 * no request per record. The committed lag (high watermark minus the committed offset) rides along.
 */

import { WindowedMax } from './metrics-window.js'

/** Unknown offsets are -1. */
interface PartitionLag {
  hw: number
  position: number
  committed: number
}

/** One partition's lags; `lag` is null until both the high watermark and a position are known. */
export interface PartitionLagValue {
  topic: string
  partition: number
  lag: number | null
  committedLag: number | null
}

export class LagTracker {
  readonly #topics = new Map<string, (PartitionLag | undefined)[]>()
  #assigned = 0
  /** Every lag a partition had after an update, over the metrics window (Java's `records-lag-max`). */
  readonly #max: WindowedMax

  constructor(now: () => number = Date.now) {
    this.#max = new WindowedMax(now)
  }

  /** Records the lag of `p` after an update, once it is known. */
  #sample(p: PartitionLag): void {
    const position = p.position >= 0 ? p.position : p.committed
    if (p.hw >= 0 && position >= 0) this.#max.record(Math.max(0, p.hw - position))
  }

  /**
   * The largest lag of any partition over the metrics window (10-20 s), the current lags included; 0 when
   * none is known. As Java's `records-lag-max`: a lag that was high a few seconds ago still shows.
   */
  maxLag(): number {
    let max = this.#max.max()
    this.forEach(({ lag }) => {
      if (lag !== null && lag > max) max = lag
    })
    return Math.max(0, max)
  }

  /** Partitions assigned now. */
  get assigned(): number {
    return this.#assigned
  }

  /** The new assignment: partitions kept keep their state, others are forgotten. */
  assign(assignment: Readonly<Record<string, readonly number[]>>): void {
    const old = new Map(this.#topics)
    this.#topics.clear()
    this.#assigned = 0
    for (const [topic, partitions] of Object.entries(assignment)) {
      const before = old.get(topic)
      const list: (PartitionLag | undefined)[] = []
      for (const p of partitions) {
        list[p] = before?.[p] ?? { hw: -1, position: -1, committed: -1 }
        this.#assigned++
      }
      this.#topics.set(topic, list)
    }
  }

  #get(topic: string, partition: number): PartitionLag | undefined {
    return this.#topics.get(topic)?.[partition]
  }

  /** A fetch response's high watermark (partitions not assigned are ignored). */
  highWatermark(topic: string, partition: number, hw: number): void {
    const p = this.#get(topic, partition)
    if (p !== undefined && hw >= 0) {
      p.hw = hw
      this.#sample(p)
    }
  }

  /** The consumer moved past `next - 1`; `hw` is the high watermark its batch came with, when known. */
  position(topic: string, partition: number, next: number, hw = -1): void {
    const p = this.#get(topic, partition)
    if (p === undefined) return
    p.position = next
    if (hw > p.hw) p.hw = hw
    this.#sample(p)
  }

  /**
   * The consumer reported its progress as `lag` behind the high watermark tracked for the partition (a
   * caller that does not have the batch's high watermark at hand); ignored until one is known.
   */
  positionFromLag(topic: string, partition: number, lag: number): void {
    const p = this.#get(topic, partition)
    if (p !== undefined && p.hw >= 0) {
      p.position = p.hw - lag
      this.#sample(p)
    }
  }

  /** An offset commit of `offset` (the next record to read) succeeded. */
  committed(topic: string, partition: number, offset: number): void {
    const p = this.#get(topic, partition)
    if (p !== undefined) p.committed = offset
  }

  /** What ListOffsets and OffsetFetch said at assignment; values already learned from fetches win. */
  seed(topic: string, partition: number, values: { high: number; position: number; committed: number | null }): void {
    const p = this.#get(topic, partition)
    if (p === undefined) return
    if (values.high > p.hw) p.hw = values.high
    if (p.position < 0) p.position = values.position
    if (p.committed < 0 && values.committed !== null) p.committed = values.committed
    this.#sample(p)
  }

  /** Calls `fn` for every assigned partition. */
  forEach(fn: (v: PartitionLagValue) => void): void {
    for (const [topic, list] of this.#topics) {
      list.forEach((p, partition) => {
        if (p === undefined) return
        const position = p.position >= 0 ? p.position : p.committed
        const lag = p.hw < 0 || position < 0 ? null : Math.max(0, p.hw - position)
        const committedLag = p.hw < 0 || p.committed < 0 ? null : Math.max(0, p.hw - p.committed)
        fn({ topic, partition, lag, committedLag })
      })
    }
  }
}

/** What seeding needs from an admin client (kafkajs' admin has these). */
export interface LagSeedAdmin {
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]>
}

/**
 * Seeds `tracker` for a new assignment: per topic one ListOffsets (earliest and latest) and the group's
 * committed offsets. A partition without a commit starts where `autoOffsetReset` puts it.
 */
export async function seedLag(
  tracker: LagTracker,
  admin: LagSeedAdmin,
  committedOf: (topic: string) => Promise<Map<number, { offset: string | null }>>,
  assignment: Readonly<Record<string, readonly number[]>>,
  autoOffsetReset: 'earliest' | 'latest' | 'none',
): Promise<void> {
  await Promise.all(
    Object.entries(assignment).map(async ([topic, partitions]) => {
      // One after the other: on a fresh admin client the ListOffsets call loads the metadata. An OffsetFetch sent
      // alongside found no broker in kafkajs's pool and waited out a retry (~300 ms), delaying the first fetch.
      const bounds = await admin.fetchTopicOffsets(topic)
      const committed = await committedOf(topic)
      const wanted = new Set(partitions)
      for (const b of bounds) {
        if (!wanted.has(b.partition)) continue
        const c = committed.get(b.partition)?.offset ?? null
        const commit = c === null || Number(c) < 0 ? null : Number(c)
        const start = autoOffsetReset === 'earliest' ? Number(b.low) : Number(b.high)
        tracker.seed(topic, b.partition, { high: Number(b.high), position: commit ?? start, committed: commit })
      }
    }),
  )
}
