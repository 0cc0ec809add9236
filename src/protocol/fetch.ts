/**
 * Fetch request v4 body and response (the oldest version Kafka 4.x keeps; non-flexible, with isolation
 * level and aborted transactions). The records of each partition come back as raw bytes for
 * `decodeRecordBatches` (a view into the response, no copy):
 *   request  => replica_id:INT32 max_wait_ms:INT32 min_bytes:INT32 max_bytes:INT32 isolation_level:INT8
 *               [topic:STRING [partition:INT32 fetch_offset:INT64 partition_max_bytes:INT32]]
 *   response => throttle_time_ms:INT32 [topic:STRING [partition:INT32 error_code:INT16 high_watermark:INT64
 *               last_stable_offset:INT64 [producer_id:INT64 first_offset:INT64]? records:NULLABLE_BYTES]]
 */
import { checkLength, readTopicHead } from './response.js'
import { writeTopicHead } from './request.js'

export const FETCH_API_KEY = 1
export const FETCH_VERSION = 4

export interface FetchRequest {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolationLevel: 'read_uncommitted' | 'read_committed'
  topics: readonly { topic: string; partitions: readonly { partition: number; fetchOffset: bigint; maxBytes: number }[] }[]
}

export interface FetchPartitionResponse {
  topic: string
  partition: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[]
  /** Raw record batches (the last one may be partial); empty when none. */
  records: Buffer
}

export interface FetchResponse {
  throttleTimeMs: number
  partitions: FetchPartitionResponse[]
}

/** Encodes a Fetch v4 request body. */
export function encodeFetchRequest(req: FetchRequest): Buffer {
  let size = 4 + 4 + 4 + 4 + 1 + 4
  for (const t of req.topics) size += 2 + Buffer.byteLength(t.topic) + 4 + t.partitions.length * 16
  const buf = Buffer.allocUnsafe(size)
  let pos = buf.writeInt32BE(-1, 0)
  pos = buf.writeInt32BE(req.maxWaitMs, pos)
  pos = buf.writeInt32BE(req.minBytes, pos)
  pos = buf.writeInt32BE(req.maxBytes, pos)
  pos = buf.writeInt8(req.isolationLevel === 'read_committed' ? 1 : 0, pos)
  pos = buf.writeInt32BE(req.topics.length, pos)
  for (const t of req.topics) {
    pos = writeTopicHead(buf, pos, t.topic, t.partitions.length)
    for (const p of t.partitions) {
      pos = buf.writeInt32BE(p.partition, pos)
      pos = buf.writeBigInt64BE(p.fetchOffset, pos)
      pos = buf.writeInt32BE(p.maxBytes, pos)
    }
  }
  return buf
}

/** Decodes a Fetch v4 response body (throws CORRUPT_RECORD on a truncated answer). */
export function decodeFetchResponse(buf: Buffer): FetchResponse {
  let pos = 0
  const need = (n: number): void => checkLength(buf, pos, n, 'Fetch')
  need(8)
  const throttleTimeMs = buf.readInt32BE(pos)
  const topics = buf.readInt32BE(pos + 4)
  pos += 8
  const partitions: FetchPartitionResponse[] = []
  for (let i = 0; i < topics; i++) {
    const head = readTopicHead(buf, pos, 'Fetch')
    const { topic } = head
    const n = head.partitions
    pos = head.pos
    for (let j = 0; j < n; j++) {
      need(30)
      const partition = buf.readInt32BE(pos)
      const errorCode = buf.readInt16BE(pos + 4)
      const highWatermark = buf.readBigInt64BE(pos + 6)
      const lastStableOffset = buf.readBigInt64BE(pos + 14)
      const abortedCount = buf.readInt32BE(pos + 22)
      pos += 26
      const abortedTransactions: FetchPartitionResponse['abortedTransactions'] = []
      if (abortedCount > 0) {
        need(abortedCount * 16)
        for (let k = 0; k < abortedCount; k++, pos += 16) abortedTransactions.push({ producerId: buf.readBigInt64BE(pos), firstOffset: buf.readBigInt64BE(pos + 8) })
      }
      need(4)
      const size = buf.readInt32BE(pos)
      pos += 4
      let records = buf.subarray(pos, pos)
      if (size > 0) {
        need(size)
        records = buf.subarray(pos, pos + size)
        pos += size
      }
      partitions.push({ topic, partition, errorCode, highWatermark, lastStableOffset, abortedTransactions, records })
    }
  }
  return { throttleTimeMs, partitions }
}
