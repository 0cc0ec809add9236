/**
 * After OUT_OF_ORDER_SEQUENCE_NUMBER for the resend of a batch whose earlier attempt went unanswered (a
 * request timeout on a frozen broker, say), the broker may hold that batch, and the ones after it, without
 * recognising the resend as a copy. A new producer id would write them again. So the partition's leader is
 * asked for this producer's last sequence (DescribeProducers): the batches up to it were written and are
 * acknowledged (offsets unknown, as for a duplicate), and the next one goes as it is.
 */
import type { RecordAccumulator } from './accumulator.js'
import type { ProducerMetricsRecorder } from './metrics.js'
import type { OutboundBatch, OutboundRecord, SenderHooks } from './sender-types.js'
import type { PartitionSequences } from './sequences.js'
import { settleWrittenBatch } from './settle-offsets.js'

export interface SettleWrittenContext {
  acc: RecordAccumulator<OutboundRecord>
  sequences: PartitionSequences
  metrics: ProducerMetricsRecorder
  lastSequence(topic: string, partition: number): Promise<number | null>
  onResolved?: SenderHooks['onSequenceResolved']
}

/**
 * Acknowledges the queued batches of `b`'s partition the leader holds (see the file comment). Resolves false
 * when the answer fits no batch boundary, shows none of them written, or could not be had: the producer must
 * then reset, as before.
 */
export async function settleWritten(b: OutboundBatch, ctx: SettleWrittenContext): Promise<boolean> {
  let last: number | null
  try {
    last = await ctx.lastSequence(b.topic, b.partition)
  } catch {
    last = null
  }
  const written = last === null ? null : ctx.sequences.writtenThrough(b, last)
  // Nothing written, yet the broker refused the batch it expects next: no progress to be had here.
  if (written === null || written.length === 0) return false
  ctx.onResolved?.(b.topic, b.partition, written.reduce((n, w) => n + w.records.length, 0))
  for (const w of written) {
    // Requeued in sequence order at the head of the partition's queue, none on the wire.
    if (!ctx.acc.removeHead(w)) break
    settleWrittenBatch(w, -1, null, ctx.sequences, ctx.metrics)
  }
  return true
}

const keyOf = (b: OutboundBatch): string => `${b.topic}\u0000${b.partition}`

/**
 * The sender's partitions under resolution: none of their batches goes meanwhile, and the leader is asked
 * only once the partition's later batches on the wire have their answers (what they were told counts).
 */
export class SequenceResolver {
  /** Per partition under resolution: called once nothing of it is on the wire, null when nothing waits. */
  private readonly waiting = new Map<string, (() => void) | null>()

  constructor(private readonly ctx: Omit<SettleWrittenContext, 'sequences' | 'lastSequence'>) {}

  /** True while `topic`/`partition` is under resolution. */
  holds(topic: string, partition: number): boolean {
    return this.waiting.size > 0 && this.waiting.has(`${topic}\u0000${partition}`)
  }

  /** A request carrying `b` ended (after `sequences.returned(b)`). */
  returned(b: OutboundBatch, sequences: PartitionSequences): void {
    if (this.waiting.size === 0 || sequences.onWireOf(b) !== 0) return
    const key = keyOf(b)
    const clear = this.waiting.get(key)
    if (clear == null) return
    this.waiting.set(key, null)
    clear()
  }

  /** Resolves `b`'s partition (`settleWritten`); false when the producer must reset. */
  async resolve(b: OutboundBatch, sequences: PartitionSequences, lastSequence: SettleWrittenContext['lastSequence']): Promise<boolean> {
    const key = keyOf(b)
    const wireClear = sequences.onWireOf(b) === 0 ? null : new Promise<void>((resolve) => this.waiting.set(key, resolve))
    if (!this.waiting.has(key)) this.waiting.set(key, null)
    try {
      if (wireClear !== null) await wireClear
      return await settleWritten(b, { ...this.ctx, sequences, lastSequence })
    } finally {
      this.waiting.delete(key)
    }
  }
}
