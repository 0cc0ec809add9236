/**
 * Turns drained batches into RecordBatch v2 bytes with the producer id, epoch and the base sequence the
 * sender assigned when the batch was first drained (`sequences.ts`). A batch is encoded once per
 * producer identity and sequence: a retry resends the very same bytes, with the same sequence, so the
 * broker recognises a copy it already wrote; one renumbered in a transaction is encoded again. Pure: no I/O.
 */
import type { CodecLookup, CompressionName } from '../protocol/types.js'
import { prepareRecordBatch } from '../protocol/record-batch-encode.js'
import type { RecordBatchWriter } from '../protocol/record-batch-encode.js'
import type { OutboundBatch } from './sender.js'
import { PartitionSequences } from './sequences.js'

/** What the request body takes: the batch's bytes, or a writer that puts them there (uncompressed). */
export type BatchBytes = Buffer | Promise<Buffer> | RecordBatchWriter

interface Encoded {
  generation: number
  /** The base sequence written (a renumbered batch is encoded again). */
  baseSequence: number
  /** A writer until it wrote; then a view of the bytes it wrote (a resend copies those). */
  bytes: BatchBytes
}

export interface BatchEncodingOptions {
  compression: CompressionName
  codecs: CodecLookup
  /** Sequence numbers and a producer id are written (idempotent or transactional producers). */
  idempotent: boolean
  transactional: boolean
  /** Told each new encoding's size without and with compression, and its topic. */
  onSizes?: (uncompressedBytes: number, encodedBytes: number, topic: string) => void
}

/** Encodes batches (see the file comment). */
export class BatchEncoding {
  private producerId = -1n
  private producerEpoch = -1
  /** Identities by generation: a batch sequenced under an earlier one is still resent with it. */
  private readonly identities = new Map<number, { producerId: bigint; producerEpoch: number }>()
  private readonly encoded = new WeakMap<OutboundBatch, Encoded>()
  /** Per-partition sequences of the current identity (idempotent producers; the sender drives them). */
  readonly sequences: PartitionSequences

  constructor(private readonly options: BatchEncodingOptions) {
    this.sequences = new PartitionSequences({ transactional: options.transactional })
  }

  /** A new producer id/epoch: sequences start again at 0 and every batch is encoded afresh. */
  setIdentity(producerId: bigint, producerEpoch: number): void {
    this.sequences.newIdentity()
    this.producerId = producerId
    this.producerEpoch = producerEpoch
    this.identities.set(this.sequences.generation, { producerId, producerEpoch })
  }

  /** The identity batches are encoded with now. */
  get identity(): { producerId: bigint; producerEpoch: number; generation: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch, generation: this.sequences.generation }
  }

  /**
   * The bytes of `batch` for the request being formed (the cached ones for a resend). Records without a
   * create time get `now`, the time their batch first goes out. An idempotent producer's batch carries
   * the sequence it was given when drained (one is given here if the sender did not).
   */
  encode(batch: OutboundBatch, now: number): BatchBytes {
    const idempotent = this.options.idempotent
    if (idempotent && this.sequences.position(batch) === null) this.sequences.dispatched(batch, -1)
    const generation = this.sequences.generationOf(batch)
    const baseSequence = idempotent ? this.sequences.baseSequence(batch) : -1
    const cached = this.encoded.get(batch)
    if (cached !== undefined && cached.generation === generation && cached.baseSequence === baseSequence) return cached.bytes
    const identity = this.identities.get(generation) ?? { producerId: this.producerId, producerEpoch: this.producerEpoch }
    const prepared = prepareRecordBatch(batch.records, {
      defaultTimestamp: now,
      compression: this.options.compression,
      codecs: this.options.codecs,
      producerId: idempotent ? identity.producerId : -1n,
      producerEpoch: idempotent ? identity.producerEpoch : -1,
      baseSequence,
      transactional: this.options.transactional,
      onSizes: this.sizesOf(batch.topic),
    })
    // The record reports the create time its batch carries (one shared string per dispatch).
    let nowString: string | null = null
    for (const r of batch.records) if (r.timestamp === '') (r as { timestamp: string }).timestamp = nowString ??= String(now)
    const entry: Encoded = { generation, baseSequence, bytes: prepared }
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

  /** The encoder's size callback for a batch of `topic` (per-topic compression-rate). */
  private sizesOf(topic: string): ((uncompressedBytes: number, encodedBytes: number) => void) | undefined {
    const onSizes = this.options.onSizes
    return onSizes === undefined ? undefined : (raw, wire) => onSizes(raw, wire, topic)
  }
}
