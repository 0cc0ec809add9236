/**
 * Completion tracking for records that finish out of order (ordering 'key' or 'unordered'). Per partition the
 * committable offset is the lowest offset handed out and not yet completed (or the next one to hand out when
 * nothing is pending); what completed above it goes into the commit metadata as an offset map. Sits next to
 * `OffsetTracker`, which serves the in-order path, and offers the same `pending()`/`committed()` pair to the
 * `GroupCommitter`.
 */
import { partitionKey } from '../offsets.js'
import type { TopicPartitionOffset } from '../offsets.js'
import { decodeOffsetMap, encodeOffsetMap, maxSpan } from './offset-map.js'

/** One record handed out: its offset and whether it completed. The parallel loop's jobs are slots themselves. */
export interface Slot {
  at: bigint
  done: boolean
}

/** One partition: the records handed out, in offset order, and what completed. */
export class PartitionCompletion {
  /** Records handed out, ascending; `head` is the first one not yet completed (or the end). */
  readonly #slots: Slot[] = []
  #head = 0
  /** The next offset after everything handed out or skipped. */
  #next: bigint
  /** Completed offsets read back from the commit metadata and not yet passed. */
  readonly #restored: Set<bigint>
  #lastCommitted: string | null = null
  #lastMetadata: string | null = null
  /** Completed records remembered above the committable offset. */
  completedAhead = 0
  /** `partitionKey` and the metrics' `topic/partition`, computed once. */
  readonly key: string
  readonly label: string
  /** Replaced or forgotten by the tracker (revoked, moved): work for it is no longer recorded. */
  retired = false
  /** Fetching is paused for back-pressure (the parallel loop's state, kept here to save a lookup per record). */
  held = false
  /** The high watermark of the last batch, for the lag metric. */
  highWatermark = -1n

  constructor(
    readonly topic: string,
    readonly partition: number,
    start: bigint,
    restored: Iterable<bigint> = [],
    private readonly metadataMaxBytes = 4096,
  ) {
    this.#next = start
    this.#restored = new Set(restored)
    this.key = partitionKey(topic, partition)
    this.label = `${topic}/${partition}`
  }

  /** Reads back a committed offset and its metadata (the group's view when this member got the partition). */
  static restore(topic: string, partition: number, committed: string | null, metadata: string | null, metadataMaxBytes?: number): PartitionCompletion {
    const at = committed !== null && /^\d+$/.test(committed) ? BigInt(committed) : null
    const map = at === null ? null : decodeOffsetMap(metadata)
    const restored = map !== null && map.committed === at ? map.completed : []
    return new PartitionCompletion(topic, partition, at ?? -1n, restored, metadataMaxBytes)
  }

  /** The lowest offset not yet completed among those handed out, or the next one to hand out. */
  get committable(): bigint {
    this.#advance()
    return this.#head < this.#slots.length ? this.#slots[this.#head]!.at : this.#next
  }

  /** The next offset after everything handed out, skipped or passed. */
  get next(): bigint {
    return this.#next
  }

  /** Records handed out and not completed. */
  get pendingCount(): number {
    return this.#slots.length - this.#head - this.completedAhead
  }

  /** The record at `offset` completed before (read from the offset map): skip it. */
  wasCompleted(offset: bigint): boolean {
    return this.#restored.has(offset)
  }

  /** The record at `offset` is below what was handed out or committed already (a refetch): skip it. */
  behind(offset: bigint): boolean {
    return this.#next >= 0n && offset < this.#next
  }

  /** May the record at `offset` be handed out without the map outgrowing the metadata limit? */
  canHandOut(offset: bigint): boolean {
    return offset < this.handOutLimit()
  }

  /** Offsets below this may be handed out now; it only grows, so a stale value is a safe bound. */
  handOutLimit(): bigint {
    const base = this.committable
    return base + BigInt(maxSpan(base, this.metadataMaxBytes))
  }

  /**
   * The record at `offset` (ascending per partition) is handed out; `done` for a record skipped as completed.
   * `slot` lets the caller's own object (the loop's job) be the slot, to save an allocation per record.
   */
  handOut(offset: bigint, done = false, slot?: Slot): Slot | null {
    if (this.behind(offset)) return null
    const s = slot ?? { at: offset, done }
    s.at = offset
    s.done = done
    this.#slots.push(s)
    if (done) this.completedAhead++
    this.#next = offset + 1n
    return s
  }

  /** Offsets with no record (control records, compaction) up to and including `offset` are passed. */
  passed(offset: bigint): void {
    if (offset + 1n > this.#next) this.#next = offset + 1n
  }

  /** The record at `offset` completed (handled, dead-lettered). */
  complete(offset: bigint): void {
    // Binary search: slots are ascending; the loop itself completes through `completeSlot`.
    let lo = this.#head
    let hi = this.#slots.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const at = this.#slots[mid]!.at
      if (at === offset) return this.completeSlot(this.#slots[mid]!)
      if (at < offset) lo = mid + 1
      else hi = mid - 1
    }
  }

  /** The record of `slot` (as returned by `handOut`) completed. */
  completeSlot(slot: Slot): void {
    if (slot.done) return
    slot.done = true
    this.completedAhead++
  }

  #advance(): void {
    while (this.#head < this.#slots.length && this.#slots[this.#head]!.done) {
      this.#head++
      this.completedAhead--
    }
    if (this.#head > 1024 && this.#head * 2 > this.#slots.length) {
      this.#slots.splice(0, this.#head)
      this.#head = 0
    }
    const base = this.#head < this.#slots.length ? this.#slots[this.#head]!.at : this.#next
    if (this.#restored.size > 0) for (const o of this.#restored) if (o < base) this.#restored.delete(o)
  }

  /** The offset map above `committable` (null when nothing completed above it). */
  metadata(): string | null {
    const base = this.committable
    if (this.completedAhead === 0) return null
    const done: bigint[] = []
    for (let i = this.#head; i < this.#slots.length; i++) if (this.#slots[i]!.done) done.push(this.#slots[i]!.at)
    // Restored offsets already reached are slots above (done); only those not reached yet are added, once each.
    for (const o of this.#restored) if (o > base && o >= this.#next) done.push(o)
    return encodeOffsetMap(base, done)
  }

  /** What to commit, when it differs from the last commit. */
  due(): TopicPartitionOffset | null {
    const base = this.committable
    if (base < 0n) return null
    const metadata = this.metadata()
    const offset = base.toString()
    if (offset === this.#lastCommitted && metadata === this.#lastMetadata) return null
    return { topic: this.topic, partition: this.partition, offset, ...(metadata !== null ? { metadata } : {}) }
  }

  markCommitted(o: TopicPartitionOffset): void {
    this.#lastCommitted = o.offset
    this.#lastMetadata = o.metadata ?? null
  }
}

/** Completion tracking of every partition this member handles out of order. */
export class CompletionTracker {
  readonly #parts = new Map<string, PartitionCompletion>()

  constructor(readonly metadataMaxBytes: number) {}

  get(topic: string, partition: number): PartitionCompletion | undefined {
    return this.#parts.get(partitionKey(topic, partition))
  }

  set(p: PartitionCompletion): void {
    const key = partitionKey(p.topic, p.partition)
    const old = this.#parts.get(key)
    if (old !== undefined && old !== p) old.retired = true
    this.#parts.set(key, p)
  }

  /** Offsets (with their maps) that differ from what was last committed. */
  pending(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = []
    for (const p of this.#parts.values()) {
      const due = p.due()
      if (due !== null) out.push(due)
    }
    return out
  }

  committed(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) this.#parts.get(partitionKey(o.topic, o.partition))?.markCommitted(o)
  }

  /** Forget every partition (an eager rebalance revoked them all; the next owner reads the commit back). */
  clear(): void {
    for (const p of this.#parts.values()) p.retired = true
    this.#parts.clear()
  }

  forget(topic: string, partition: number): void {
    const key = partitionKey(topic, partition)
    const p = this.#parts.get(key)
    if (p !== undefined) p.retired = true
    this.#parts.delete(key)
  }

  all(): IterableIterator<PartitionCompletion> {
    return this.#parts.values()
  }

  /** Records handed out and not finished per `topic/partition`, and the finished records carried in offset maps. */
  depth(): { queueDepth: Record<string, number>; offsetMapRecords: number } {
    const queueDepth: Record<string, number> = {}
    let offsetMapRecords = 0
    for (const p of this.#parts.values()) {
      queueDepth[p.label] = p.pendingCount
      offsetMapRecords += p.completedAhead
    }
    return { queueDepth, offsetMapRecords }
  }
}
