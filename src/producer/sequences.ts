/**
 * Per-partition sequence numbers of an idempotent producer with several batches in flight per partition,
 * kept as the Java client's TransactionManager keeps them: a batch gets its sequence when it is first
 * drained, in order, and keeps it across retries (a resend is the same bytes, so the broker recognises a
 * copy it already wrote); while a partition retries, only the batch the broker expects next may go; a
 * batch given up after it may have been written leaves the partition's sequence unknown until the
 * batches after it tell (the broker wrote a later one) or a new producer id starts it again at 0.
 * A new producer id reaches each partition on its own, once the partition has no unresolved batch of
 * the previous one (their copies on the broker are recognised only under the id they were written
 * with), unless the broker refused the partition's batches for their identity: those are re-sequenced,
 * as is everything of a transactional producer (its new epoch fences the old one).
 * Pure: no I/O, no timers.
 */
import type { OutboundBatch } from './sender-types.js'

/** Wire sequences wrap at Int32 max, as the broker's do. */
const INT32_MAX = 0x7fffffff

interface Assigned {
  generation: number
  /** Unwrapped base sequence: keeps order comparisons right past the wrap. */
  position: number
  /** A request carrying it ended without an answer for it: the broker may hold it. */
  uncertain: boolean
  /** The position it last went out with (-1: not yet); differs from `position` once renumbered. */
  sent: number
}

interface PartitionSeq {
  /** The identity (generation) this partition's sequences belong to. */
  generation: number
  /** The broker refused a batch for its identity or sequence: re-sequence everything under the next identity. */
  rewrite: boolean
  /** Position of the next new batch. */
  next: number
  /** Everything below this position was acknowledged. */
  acked: number
  /** A batch was acknowledged under this identity (the broker holds state for this producer). */
  ackedAny: boolean
  /** Batches with a sequence and no final outcome (in a request or waiting to be retried), by position. */
  unresolved: OutboundBatch[]
  /**
   * Every batch sequenced from the oldest unresolved one on, acknowledged or not: the broker recognises a
   * resent copy only among a producer's last 5 batches, so this never grows past `maxInFlight`.
   */
  window: OutboundBatch[]
  /** Of those, the ones inside a request right now, and the broker they went to. */
  onWire: number
  wireBroker: number
  /**
   * End position of a batch given up while the broker may have written it: until a later batch is
   * acknowledged past it (it was written) or the partition has nothing unresolved left (then it is
   * unknowable), no new batch may take a sequence. Null when known.
   */
  unknownEnd: number | null
}

/** What the drain may do with a partition's head batch. */
export type DrainVerdict = 'send' | 'wait' | 'reset'

export interface PartitionSequencesOptions {
  /** Transactional producers abort the transaction on a lost batch (the abort starts a new epoch) instead of asking for a new producer id. */
  transactional: boolean
}

/** Sequence bookkeeping of one producer identity (see the file comment). */
export class PartitionSequences {
  private generationNo = 0
  private readonly parts = new Map<string, PartitionSeq>()
  private readonly assigned = new WeakMap<OutboundBatch, Assigned>()

  constructor(private readonly options: PartitionSequencesOptions) {}

  /** Bumped by each new producer id/epoch: sequences of earlier identities no longer count. */
  get generation(): number {
    return this.generationNo
  }

  /**
   * A new producer id/epoch. Partitions without unresolved batches start again at 0 with their next
   * batch; partitions marked by `rewrite()` re-sequence their unresolved batches (none is in a request:
   * the sender resets only when nothing is in flight); the others finish theirs under the old identity.
   */
  newIdentity(): void {
    this.generationNo++
    for (const [k, st] of this.parts) {
      // A transactional id's new epoch fences the old one: nothing is written under it any more.
      if (this.options.transactional) for (const b of st.unresolved) this.assigned.delete(b)
      if (st.unresolved.length === 0 || this.options.transactional) this.parts.delete(k)
      else if (st.rewrite) {
        for (const b of st.unresolved) this.assigned.delete(b)
        this.parts.delete(k)
      }
    }
  }

  /** The broker refused `batch` for its producer id, epoch or sequence: its partition is re-sequenced under the next identity. */
  rewrite(batch: OutboundBatch): void {
    const st = this.current(batch)
    if (st !== null) st.rewrite = true
  }

  /** The generation of the identity `batch` is to be written with: its sequence's, else the current one. */
  generationOf(batch: OutboundBatch): number {
    return this.current(batch)?.generation ?? this.generationNo
  }

  /** The batch's wire base sequence, -1 when it has none. */
  baseSequence(batch: OutboundBatch): number {
    const p = this.position(batch)
    return p === null ? -1 : p % (INT32_MAX + 1)
  }

  /** The batch's unwrapped sequence (for ordering), null when it has none. */
  position(batch: OutboundBatch): number | null {
    return this.current(batch) === null ? null : (this.assigned.get(batch) as Assigned).position
  }

  /**
   * May the head batch of its partition go to `broker` now? A retry only when the broker expects it next;
   * a new batch only while fewer than `maxInFlight` are unresolved, nothing waits to be retried, the
   * sequence is known, the batches on the wire went to the same broker, and (under a fresh identity)
   * once the broker acknowledged the partition's first batch. `reset`: the sequence is lost for good.
   */
  mayDrain(head: OutboundBatch, broker: number, maxInFlight: number): DrainVerdict {
    const st = this.parts.get(key(head))
    if (st === undefined) return 'send'
    if (this.position(head) !== null) return st.unresolved[0] === head ? 'send' : 'wait'
    // Under an earlier identity: the partition moves to the new one once its last batch is resolved.
    if (st.generation !== this.generationNo) return st.unresolved.length > 0 ? 'wait' : 'send'
    if (st.unknownEnd !== null && !this.options.transactional) {
      if (st.unresolved.length > 0) return 'wait'
      return 'reset'
    }
    if (st.window.length >= maxInFlight) return 'wait'
    if (st.unresolved.length > st.onWire) return 'wait'
    if (st.onWire > 0 && (st.wireBroker !== broker || !st.ackedAny)) return 'wait'
    return 'send'
  }

  /** The batch goes out now: a new batch takes the partition's next sequence; a retry keeps its own. */
  dispatched(batch: OutboundBatch, broker: number): void {
    let st = this.state(batch)
    if (this.position(batch) === null) {
      if (st.generation !== this.generationNo) {
        this.parts.delete(key(batch))
        st = this.state(batch)
      }
      this.assigned.set(batch, { generation: this.generationNo, position: st.next, uncertain: false, sent: -1 })
      st.next += batch.records.length
      st.unresolved.push(batch)
      st.window.push(batch)
    }
    const a = this.assigned.get(batch)
    if (a !== undefined) a.sent = a.position
    st.onWire++
    st.wireBroker = broker
  }

  /**
   * The answer just received for `batch` is about a sequence it no longer has: it was renumbered while on
   * the wire (`givenUp`), so an OUT_OF_ORDER_SEQUENCE_NUMBER for it means only "go again".
   */
  renumberedSinceSent(batch: OutboundBatch): boolean {
    const a = this.assigned.get(batch)
    return a !== undefined && this.current(batch) !== null && a.sent !== -1 && a.sent !== a.position
  }

  /** The request carrying `batch` ended (any outcome). */
  returned(batch: OutboundBatch): void {
    const st = this.current(batch)
    if (st !== null && st.onWire > 0) st.onWire--
  }

  /** A request carrying `batch` failed as a whole (timeout, disconnect): it may have been written. */
  uncertain(batch: OutboundBatch): void {
    const a = this.assigned.get(batch)
    if (a !== undefined && this.current(batch) !== null) a.uncertain = true
  }

  /** The broker wrote `batch` (or already held it). */
  acked(batch: OutboundBatch): void {
    const st = this.current(batch)
    if (st === null) return
    const pos = (this.assigned.get(batch) as Assigned).position
    this.remove(st, batch)
    st.ackedAny = true
    st.acked = Math.max(st.acked, pos + batch.records.length)
    if (st.unknownEnd !== null && st.acked >= st.unknownEnd) st.unknownEnd = null
  }

  /** True when a batch before `batch` in its partition has no final outcome yet. */
  hasUnresolvedBefore(batch: OutboundBatch): boolean {
    const st = this.current(batch)
    return st !== null && st.unresolved[0] !== batch && st.unresolved.includes(batch)
  }

  /** True when `batch` is the one its partition's retries wait for (or has no sequence). */
  isNextToRetry(batch: OutboundBatch): boolean {
    const st = this.current(batch)
    return st === null || st.unresolved[0] === batch
  }

  /**
   * `batch` failed for good. `refused`: the broker answered its last attempt with an error; unless an
   * earlier attempt went unanswered it was not written, and when it was the partition's last sequenced
   * batch its sequence is taken again. A transactional producer's later batches are renumbered to close
   * the gap instead, as the Java client's TransactionManager does (they were not written either: the
   * broker takes a batch only right after the one before it, and that one was not written), so the
   * partition stays in step for the next transaction under the same epoch. Otherwise the partition's
   * sequence is unknown from there (see `mayDrain`).
   */
  givenUp(batch: OutboundBatch, refused: boolean): void {
    const st = this.current(batch)
    if (st === null) return
    const a = this.assigned.get(batch) as Assigned
    refused &&= !a.uncertain
    const pos = a.position
    const end = pos + batch.records.length
    this.remove(st, batch)
    this.assigned.delete(batch)
    if (end <= st.acked) return
    if (refused && end === st.next) {
      st.next = pos
      return
    }
    if (refused && this.options.transactional) {
      const count = batch.records.length
      for (const later of st.unresolved) {
        const la = this.assigned.get(later) as Assigned
        if (la.position < end) continue
        la.position -= count
        la.uncertain = false
      }
      st.next -= count
      if (st.unknownEnd !== null && st.unknownEnd >= end) st.unknownEnd -= count
      return
    }
    st.unknownEnd = Math.max(st.unknownEnd ?? 0, end)
  }

  /**
   * True when `batch` is its partition's oldest unresolved batch and a request carrying it went unanswered:
   * the broker may hold it, and what it holds can be asked (`writtenThrough`) once nothing of the partition
   * is on the wire (`onWireOf`).
   */
  uncertainHead(batch: OutboundBatch): boolean {
    const st = this.current(batch)
    return st !== null && st.unresolved[0] === batch && (this.assigned.get(batch) as Assigned).uncertain
  }

  /** Batches of `batch`'s partition inside a request right now. */
  onWireOf(batch: OutboundBatch): number {
    return this.current(batch)?.onWire ?? 0
  }

  /**
   * The partition's unresolved batches the broker holds, oldest first, given the last sequence it wrote for
   * this producer: none when that is just before the oldest one, else every one that ends at or before it
   * (batches acknowledged in between are skipped: the broker takes a batch only right after the one before
   * it). Null when it falls inside a batch or past anything sent (the sequence is lost).
   */
  writtenThrough(batch: OutboundBatch, lastSequence: number): OutboundBatch[] | null {
    const st = this.current(batch)
    if (st === null || st.unresolved.length === 0 || lastSequence < -1 || lastSequence > INT32_MAX) return null
    const modulus = INT32_MAX + 1
    const wire = (position: number): number => (position < 0 ? -1 : position % modulus)
    const before = (this.assigned.get(st.unresolved[0] as OutboundBatch) as Assigned).position - 1
    // The unwrapped position of the broker's last sequence, counted forward from just before the oldest batch.
    const last = before + ((((lastSequence - wire(before)) % modulus) + modulus) % modulus)
    if (last >= st.next) return null
    const written: OutboundBatch[] = []
    for (const b of st.window) {
      const a = this.assigned.get(b)
      if (a === undefined || a.generation !== st.generation) continue
      if (a.position + b.records.length - 1 <= last) {
        if (st.unresolved.includes(b)) written.push(b)
      } else if (a.position <= last) return null
    }
    return written
  }

  /** True when some partition lost its sequence and has nothing unresolved left: only a new producer id helps. */
  get resetNeeded(): boolean {
    if (this.options.transactional) return false
    for (const st of this.parts.values()) if (st.unknownEnd !== null && st.unresolved.length === 0 && st.generation === this.generationNo) return true
    return false
  }

  private remove(st: PartitionSeq, batch: OutboundBatch): void {
    const i = st.unresolved.indexOf(batch)
    if (i >= 0) st.unresolved.splice(i, 1)
    const oldest = st.unresolved[0]
    while (st.window.length > 0 && st.window[0] !== oldest) st.window.shift()
  }

  /** The partition state of a batch that holds a sequence of that state's identity. */
  private current(batch: OutboundBatch): PartitionSeq | null {
    const a = this.assigned.get(batch)
    if (a === undefined) return null
    const st = this.parts.get(key(batch))
    return st === undefined || st.generation !== a.generation ? null : st
  }

  private state(batch: OutboundBatch): PartitionSeq {
    const k = key(batch)
    let st = this.parts.get(k)
    if (st === undefined) {
      st = { generation: this.generationNo, rewrite: false, next: 0, acked: 0, ackedAny: false, unresolved: [], window: [], onWire: 0, wireBroker: -1, unknownEnd: null }
      this.parts.set(k, st)
    }
    return st
  }
}

function key(batch: OutboundBatch): string {
  return `${batch.topic}\u0000${batch.partition}`
}
