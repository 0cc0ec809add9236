import { BATCH_OVERHEAD_BYTES } from './accumulator.js'
import type { ProducerMetricsRecorder } from './metrics.js'
import type { OutboundBatch, OutboundRecord } from './sender-types.js'
import type { PartitionSequences } from './sequences.js'

/** `b` was written: its sequence is acknowledged, it counts in the metrics, and its records resolve. */
export function settleWrittenBatch(b: OutboundBatch, base: string | number, logAppendTime: string | null, sequences: PartitionSequences | null, metrics: ProducerMetricsRecorder): void {
  sequences?.acked(b)
  metrics.acked(b.topic, b.records.length, b.bytes - BATCH_OVERHEAD_BYTES, b.records[0]?.sendAt ?? 0, b.records[b.records.length - 1]?.sendAt ?? 0)
  settleOffsets(b, base, logAppendTime)
}

/** Resolves each record of an acknowledged batch with base offset + its index (offsets are dense). */
export function settleOffsets(b: OutboundBatch, base: string | number, logAppendTime: string | null): void {
  const { topic, partition, records } = b
  if (base === -1 || base === '-1') {
    for (const r of records) r.settle({ topic, partition, offset: '-1', timestamp: logAppendTime ?? r.timestamp }, null)
    return
  }
  const n = Number(base)
  if (Number.isSafeInteger(n + records.length)) {
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as OutboundRecord
      r.settle({ topic, partition, offset: String(n + i), timestamp: logAppendTime ?? r.timestamp }, null)
    }
    return
  }
  const big = BigInt(base)
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as OutboundRecord
    r.settle({ topic, partition, offset: (big + BigInt(i)).toString(), timestamp: logAppendTime ?? r.timestamp }, null)
  }
}
