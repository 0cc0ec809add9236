/**
 * Turns drained batches into RecordBatch v2 bytes and keeps the idempotence bookkeeping the broker
 * checks: producer id and epoch, and per partition the next sequence number (advanced only when the
 * broker acknowledged a batch, as kafkajs and the Java client do for a partition with one batch in flight).
 * A batch is encoded once per producer identity: a retry resends the very same bytes, with the same
 * sequence, so the broker recognises a copy it already wrote. Pure: no I/O.
 */
import type { CodecLookup, CompressionName } from '../protocol/types.js'
import { prepareRecordBatch } from '../protocol/record-batch-encode.js'
import type { RecordBatchWriter } from '../protocol/record-batch-encode.js'
import type { OutboundBatch } from './sender.js'

/** What the request body takes: the batch's bytes, or a writer that puts them there (uncompressed). */
export type BatchBytes = Buffer | Promise<Buffer> | RecordBatchWriter

interface Encoded {
  generation: number
  baseSequence: number
  /** A writer until it wrote; then a view of the bytes it wrote (a resend copies those). */
  bytes: BatchBytes
}

interface PartitionState {
  /** Sequence of the next new batch (records acknowledged so far under this identity). */
  next: number
  /** The batch that went out last and has no answer yet: while set, only that batch may go out. */
  unresolved: OutboundBatch | null
}

/** Thrown when a partition's previous batch was given up with an unknown outcome: a new producer id is needed. */
export class SequenceResetNeeded extends Error {
  override name = 'SequenceResetNeeded'
}

const INT32_MAX = 0x7fffffff

export interface BatchEncodingOptions {
  compression: CompressionName
  codecs: CodecLookup
  /** Sequence numbers and a producer id are written (idempotent or transactional producers). */
  idempotent: boolean
  transactional: boolean
  /** Told each new encoding's size without and with compression, and its topic. */
  onSizes?: (uncompressedBytes: number, encodedBytes: number, topic: string) => void
}

/** Encodes batches and tracks sequences (see the file comment). */
export class BatchEncoding {
  private generation = 0
  private producerId = -1n
  private producerEpoch = -1
  private readonly partitions = new Map<string, PartitionState>()
  private readonly encoded = new WeakMap<OutboundBatch, Encoded>()

  constructor(private readonly options: BatchEncodingOptions) {}

  /** A new producer id/epoch: sequences start again at 0 and every batch is encoded afresh. */
  setIdentity(producerId: bigint, producerEpoch: number): void {
    this.generation++
    this.producerId = producerId
    this.producerEpoch = producerEpoch
    this.partitions.clear()
  }

  /** The identity batches are encoded with now. */
  get identity(): { producerId: bigint; producerEpoch: number; generation: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch, generation: this.generation }
  }

  /**
   * The bytes of `batch` for the request being formed (the cached ones for a resend). Records without a
   * create time get `now`, the time their batch first goes out. Throws `SequenceResetNeeded` when an
   * idempotent producer would otherwise reuse the sequence of a batch that may have been written.
   */
  encode(batch: OutboundBatch, now: number): BatchBytes {
    const cached = this.encoded.get(batch)
    if (cached !== undefined && cached.generation === this.generation) {
      if (this.options.idempotent) this.state(batch).unresolved = batch
      return cached.bytes
    }
    let baseSequence = -1
    if (this.options.idempotent) {
      const st = this.state(batch)
      if (st.unresolved !== null && st.unresolved !== batch && !this.options.transactional) {
        throw new SequenceResetNeeded(`a batch of ${batch.topic}[${batch.partition}] was given up after it went out`)
      }
      baseSequence = st.next
      st.unresolved = batch
    }
    const prepared = prepareRecordBatch(batch.records, {
      defaultTimestamp: now,
      compression: this.options.compression,
      codecs: this.options.codecs,
      producerId: this.options.idempotent ? this.producerId : -1n,
      producerEpoch: this.options.idempotent ? this.producerEpoch : -1,
      baseSequence,
      transactional: this.options.transactional,
      onSizes: this.sizesOf(batch.topic),
    })
    // The record reports the create time its batch carries (one shared string per dispatch).
    let nowString: string | null = null
    for (const r of batch.records) if (r.timestamp === '') (r as { timestamp: string }).timestamp = nowString ??= String(now)
    const entry: Encoded = { generation: this.generation, baseSequence, bytes: prepared }
    if (!Buffer.isBuffer(prepared) && !(prepared instanceof Promise)) {
      // Written straight into the request body; the view of what it wrote is what a resend sends.
      entry.bytes = {
        size: prepared.size,
        writeInto(buf, offset) {
          prepared.writeInto(buf, offset)
          entry.bytes = buf.subarray(offset, offset + prepared.size)
        },
      }
    }
    this.encoded.set(batch, entry)
    return entry.bytes
  }

  /**
   * The broker wrote `batch`: its partition's sequence moves past it. Its bytes stay cached: should the
   * sender still resend it (a request other partitions failed), the broker answers the copy with the
   * offsets it wrote.
   */
  acked(batch: OutboundBatch): void {
    const enc = this.encoded.get(batch)
    if (!this.options.idempotent || enc === undefined || enc.generation !== this.generation) return
    const st = this.state(batch)
    if (st.unresolved === batch) st.unresolved = null
    const next = enc.baseSequence + batch.records.length
    st.next = next > INT32_MAX ? next - INT32_MAX - 1 : next
  }

  /** The broker answered with an error for `batch`: it was not written, its sequence may be reused. */
  refused(batch: OutboundBatch): void {
    if (!this.options.idempotent) return
    const st = this.partitions.get(key(batch))
    if (st !== undefined && st.unresolved === batch) st.unresolved = null
  }

  /** The encoder's size callback for a batch of `topic` (per-topic compression-rate). */
  private sizesOf(topic: string): ((uncompressedBytes: number, encodedBytes: number) => void) | undefined {
    const onSizes = this.options.onSizes
    return onSizes === undefined ? undefined : (raw, wire) => onSizes(raw, wire, topic)
  }

  private state(batch: OutboundBatch): PartitionState {
    const k = key(batch)
    let st = this.partitions.get(k)
    if (st === undefined) this.partitions.set(k, (st = { next: 0, unresolved: null }))
    return st
  }
}

function key(batch: OutboundBatch): string {
  return `${batch.topic}\u0000${batch.partition}`
}
