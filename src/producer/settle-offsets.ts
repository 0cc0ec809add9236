import type { OutboundBatch, OutboundRecord } from './sender-types.js'

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
