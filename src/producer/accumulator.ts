/**
 * The record accumulator: per-partition queues of batches, the bookkeeping that decides when a batch
 * is ready (batch.size / linger.ms / flush), and which batches go out next. Pure: no I/O, no timers,
 * time comes in as arguments, so it is unit-tested without a broker.
 */
import { estimateHeadersSize } from './headers.js'
import type { WireHeaders } from './headers.js'

/** What the accumulator needs to know about a record. */
export interface AccumulatedRecord {
  /** Estimated bytes on the wire (record overhead included). */
  readonly size: number
}

/** One partition's batch: records appended in order, sent as one unit. */
export interface Batch<R extends AccumulatedRecord> {
  readonly topic: string
  readonly partition: number
  records: R[]
  bytes: number
  /** When the first record was appended (ms). */
  createdAt: number
  /** No more appends: full, or drained. */
  closed: boolean
  /** Failed sends so far. */
  attempts: number
  /**
   * Went out at least once (set by the sender). Such a unit keeps its records as they are: the broker may
   * already hold it, and an idempotent resend is only recognised as a duplicate with the same sequence range.
   */
  sent?: boolean
  /** The producer's own data about the batch (the promise its records share); the accumulator ignores it. */
  tag?: unknown
}

/** May this partition's head batch go now (see `drain`)? */
export type Accept<R extends AccumulatedRecord> = (topic: string, partition: number, head: Batch<R>) => boolean

/** Per-batch bytes a v2 record batch adds on top of its records. */
export const BATCH_OVERHEAD_BYTES = 61

/**
 * Upper bound of a v2 record's size on the wire: varint length, attributes, timestamp and offset deltas,
 * key and value lengths, header count, plus the payload.
 */
export function estimateRecordSize(
  key: Buffer | null,
  value: Buffer | null,
  headers: WireHeaders | undefined,
): number {
  const size = 21 + (key?.length ?? 0) + (value?.length ?? 0)
  return headers === undefined ? size : size + estimateHeadersSize(headers)
}

interface PartitionQueue<R extends AccumulatedRecord> {
  readonly topic: string
  readonly partition: number
  batches: Batch<R>[]
  /** Units of this partition in flight (at most `maxInFlightPerPartition`). */
  inFlight: number
  /** Not before this time (retry back-off), ms. */
  backoffUntil: number
}

export interface AccumulatorOptions {
  /** batch.size: a batch is ready once it holds this many bytes. */
  batchSize: number
  /** linger.ms: a batch is ready once its first record waited this long. */
  lingerMs: number
  /** Most bytes of one partition in one drained unit (max.request.size minus overhead). */
  maxDrainBytes: number
  /**
   * Most records of one partition in one drained unit (and in one batch); the producer sets no cap
   * (its own encoding is linear), tests use small ones.
   */
  maxDrainRecords: number
  /**
   * Units of one partition in flight at once. 1 keeps per-partition order across retries on its own;
   * more pipelines a partition: without idempotence a retried unit may then land after a later one (the
   * Java client behaves the same), with idempotence the sender's sequence gate (`sequences.ts`) keeps
   * order. @default 1
   */
  maxInFlightPerPartition?: number
  /** Told when a partition's batch is closed (full or drained), for the sticky partitioner. */
  onBatchClosed?: (topic: string, partition: number) => void
}

/** Per-partition batching bookkeeping (see the file comment). */
export class RecordAccumulator<R extends AccumulatedRecord> {
  private readonly queues = new Map<string, PartitionQueue<R>[]>()
  /** Queues that hold at least one batch, in the order they got their first one. */
  private readonly nonEmpty = new Set<PartitionQueue<R>>()
  private queuedRecords = 0
  /** The batch the last `append()` put its record in. */
  lastBatch: Batch<R> | null = null

  private readonly maxInFlightPerPartition: number

  constructor(private readonly options: AccumulatorOptions) {
    this.maxInFlightPerPartition = Math.max(1, options.maxInFlightPerPartition ?? 1)
  }

  /** Records waiting in batches (not in flight). */
  get size(): number {
    return this.queuedRecords
  }

  /**
   * Appends a record to its partition's open batch (or a new one).
   * Returns true when that made a batch full, i.e. there is something to send now.
   */
  append(topic: string, partition: number, record: R, now: number): boolean {
    const q = this.queue(topic, partition)
    let batch = q.batches[q.batches.length - 1]
    if (batch !== undefined && !batch.closed && batch.records.length > 0 && batch.bytes + record.size > this.options.batchSize) {
      this.close(batch)
      batch = undefined
    }
    if (batch === undefined || batch.closed) {
      batch = { topic, partition, records: [], bytes: BATCH_OVERHEAD_BYTES, createdAt: now, closed: false, attempts: 0 }
      q.batches.push(batch)
      this.nonEmpty.add(q)
    }
    batch.records.push(record)
    batch.bytes += record.size
    this.lastBatch = batch
    this.queuedRecords++
    if (batch.bytes >= this.options.batchSize || batch.records.length >= this.options.maxDrainRecords) {
      this.close(batch)
      return true
    }
    return q.batches.length > 1
  }

  /**
   * Takes the ready head batch of every partition that has nothing in flight and is not backing off.
   * A batch is ready when closed (full), when it lingered `lingerMs`, or when `force` (flush, buffer full).
   * Consecutive ready batches of one partition are merged into one unit, up to the drain limits.
   * At most one unit per partition per call, and at most `maxInFlightPerPartition` in flight until
   * `complete()` or `requeue()`. `accept` may still hold a partition back (its broker is busy, or its
   * head batch must wait for the ones before it).
   */
  drain(now: number, force: boolean, accept: Accept<R> = () => true): Batch<R>[] {
    const out: Batch<R>[] = []
    for (const q of this.nonEmpty) {
      if (q.inFlight >= this.maxInFlightPerPartition || q.backoffUntil > now) continue
      const head = q.batches[0]
      if (head === undefined || !this.isReady(head, now, force)) continue
      if (!accept(q.topic, q.partition, head)) continue
      q.batches.shift()
      if (!head.closed) this.close(head)
      // Merge whole following batches while the unit stays within the drain limits (never into or from a
      // unit that went out before: a resend must be the same records, or the broker sees a sequence gap).
      for (;;) {
        const next = q.batches[0]
        if (head.sent === true || next === undefined || next.sent === true || !this.isReady(next, now, force)) break
        if (head.bytes + next.bytes - BATCH_OVERHEAD_BYTES > this.options.maxDrainBytes) break
        if (head.records.length + next.records.length > this.options.maxDrainRecords) break
        q.batches.shift()
        if (!next.closed) this.close(next)
        for (const r of next.records) head.records.push(r)
        head.bytes += next.bytes - BATCH_OVERHEAD_BYTES
      }
      this.queuedRecords -= head.records.length
      q.inFlight++
      if (q.batches.length === 0) this.nonEmpty.delete(q)
      out.push(head)
    }
    return out
  }

  /** The batch's partition may send again (its batch was acknowledged or failed for good). */
  complete(batch: Batch<R>): void {
    const q = this.queues.get(batch.topic)?.[batch.partition]
    if (q !== undefined && q.inFlight > 0) q.inFlight--
  }

  /**
   * Puts a drained batch back at the head of its partition (retry or not sent), unmuting it. With
   * `positionOf` (idempotence: a batch's sequence, null when it has none) a batch with a sequence goes
   * before every queued batch without one or with a later one, so retries leave in sequence order.
   * `backoffUntil` null keeps the partition's current back-off.
   */
  requeue(batch: Batch<R>, backoffUntil: number | null, positionOf?: (batch: Batch<R>) => number | null): void {
    const q = this.queue(batch.topic, batch.partition)
    const pos = positionOf?.(batch) ?? null
    let at = 0
    if (pos !== null) {
      while (at < q.batches.length) {
        const other = positionOf?.(q.batches[at] as Batch<R>) ?? null
        if (other === null || other > pos) break
        at++
      }
    }
    q.batches.splice(at, 0, batch)
    if (q.inFlight > 0) q.inFlight--
    if (backoffUntil !== null) q.backoffUntil = backoffUntil
    this.queuedRecords += batch.records.length
    this.nonEmpty.add(q)
  }

  /** Takes `batch` off the head of its partition's queue (it was requeued and is settled now); false when it is not there. */
  removeHead(batch: Batch<R>): boolean {
    const q = this.queues.get(batch.topic)?.[batch.partition]
    if (q === undefined || q.batches[0] !== batch) return false
    q.batches.shift()
    this.queuedRecords -= batch.records.length
    if (q.batches.length === 0) this.nonEmpty.delete(q)
    return true
  }

  /** Removes and returns queued (not in flight) batches that `expired` says are past their deadline. */
  expire(expired: (batch: Batch<R>) => boolean): Batch<R>[] {
    const out: Batch<R>[] = []
    for (const q of this.nonEmpty) {
      while (q.batches.length > 0 && expired(q.batches[0] as Batch<R>)) {
        const b = q.batches.shift() as Batch<R>
        if (!b.closed) this.close(b)
        this.queuedRecords -= b.records.length
        out.push(b)
      }
      if (q.batches.length === 0) this.nonEmpty.delete(q)
    }
    return out
  }

  /** Removes and returns every queued batch (close, abort). */
  drainAll(): Batch<R>[] {
    return this.expire(() => true)
  }

  /**
   * Earliest time a queued batch of an unmuted partition becomes ready by linger or back-off; null if none.
   * Partitions `accept` holds back are skipped: an answer from the broker frees them, not the clock.
   */
  nextReadyAt(now: number, accept: Accept<R> = () => true): number | null {
    let next: number | null = null
    for (const q of this.nonEmpty) {
      if (q.inFlight >= this.maxInFlightPerPartition) continue
      const head = q.batches[0]
      if (head === undefined || !accept(q.topic, q.partition, head)) continue
      const at = Math.max(q.backoffUntil, head.closed || q.batches.length > 1 ? now : head.createdAt + this.options.lingerMs)
      if (next === null || at < next) next = at
    }
    return next
  }

  /** Earliest `createdAt` of any queued batch (for delivery deadlines); null if none. */
  oldestCreatedAt(): number | null {
    let oldest: number | null = null
    for (const q of this.nonEmpty) {
      const head = q.batches[0]
      if (head !== undefined && (oldest === null || head.createdAt < oldest)) oldest = head.createdAt
    }
    return oldest
  }

  private isReady(batch: Batch<R>, now: number, force: boolean): boolean {
    return force || batch.closed || now - batch.createdAt >= this.options.lingerMs
  }

  private close(batch: Batch<R>): void {
    batch.closed = true
    this.options.onBatchClosed?.(batch.topic, batch.partition)
  }

  private queue(topic: string, partition: number): PartitionQueue<R> {
    let perTopic = this.queues.get(topic)
    if (perTopic === undefined) this.queues.set(topic, (perTopic = []))
    let q = perTopic[partition]
    if (q === undefined) {
      q = { topic, partition, batches: [], inFlight: 0, backoffUntil: 0 }
      perTopic[partition] = q
    }
    return q
  }
}
