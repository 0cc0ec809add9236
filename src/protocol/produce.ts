/**
 * Produce request v7 body and response (KIP-110 zstd; the newest non-flexible version, which Kafka 4.x
 * still accepts and kafkajs's connection frames like any other request):
 *   request  => transactional_id:NULLABLE_STRING acks:INT16 timeout_ms:INT32
 *               [topic:STRING [partition:INT32 records:NULLABLE_BYTES]]
 *   response => [topic:STRING [partition:INT32 error_code:INT16 base_offset:INT64
 *               log_append_time_ms:INT64 log_start_offset:INT64]] throttle_time_ms:INT32
 * The request header (api key, version, correlation id, client id) is the connection's job;
 * `encodeProduceRequestWithRoom` leaves room for it in front of the body.
 */
import type { RecordBatchWriter } from './record-batch-encode.js'
import { checkLength, readTopicHead } from './response.js'
import { writeTopicHead } from './request.js'

export const PRODUCE_API_KEY = 0
export const PRODUCE_VERSION = 7

/** One partition's encoded RecordBatch in a produce request. */
export interface ProducePartitionData {
  partition: number
  /** The encoded batch, or a writer that encodes it straight into the request body. */
  records: Buffer | RecordBatchWriter
}

export interface ProduceTopicData {
  topic: string
  partitions: readonly ProducePartitionData[]
}

export interface ProduceRequest {
  transactionalId: string | null
  /** -1 (all), 0 or 1. */
  acks: -1 | 0 | 1
  timeoutMs: number
  topics: readonly ProduceTopicData[]
}

/** Encodes a Produce v7 request body into one buffer (encoded batches copied once, writers write in place). */
export function encodeProduceRequest(req: ProduceRequest): Buffer {
  return encodeProduceRequestWithRoom(req, 0)
}

/**
 * Encodes a Produce v7 request body at offset `room` of a new buffer (from `alloc`), leaving `room` bytes in
 * front for the request header and size prefix (so the connection can frame it without copying the body).
 */
export function encodeProduceRequestWithRoom(req: ProduceRequest, room: number, alloc: (size: number) => Buffer = (n) => Buffer.allocUnsafe(n)): Buffer {
  const txn = req.transactionalId
  const txnBytes = txn === null ? 0 : Buffer.byteLength(txn)
  let size = room + 2 + txnBytes + 2 + 4 + 4
  for (const t of req.topics) {
    size += 2 + Buffer.byteLength(t.topic) + 4
    for (const p of t.partitions) size += 4 + 4 + (Buffer.isBuffer(p.records) ? p.records.length : p.records.size)
  }
  const buf = alloc(size)
  let pos = room
  if (txn === null) pos = buf.writeInt16BE(-1, pos)
  else {
    pos = buf.writeInt16BE(txnBytes, pos)
    pos += buf.write(txn, pos, 'utf8')
  }
  pos = buf.writeInt16BE(req.acks, pos)
  pos = buf.writeInt32BE(req.timeoutMs, pos)
  pos = buf.writeInt32BE(req.topics.length, pos)
  for (const t of req.topics) {
    pos = writeTopicHead(buf, pos, t.topic, t.partitions.length)
    for (const p of t.partitions) {
      pos = buf.writeInt32BE(p.partition, pos)
      const records = p.records
      if (Buffer.isBuffer(records)) {
        pos = buf.writeInt32BE(records.length, pos)
        buf.set(records, pos)
        pos += records.length
      } else {
        pos = buf.writeInt32BE(records.size, pos)
        records.writeInto(buf, pos)
        pos += records.size
      }
    }
  }
  if (pos !== size) throw new Error(`produce request size mismatch: measured ${size}, wrote ${pos}`)
  return buf
}

/** The broker's answer for one partition. */
export interface ProducePartitionResponse {
  topic: string
  partition: number
  errorCode: number
  /** Decimal string (offsets may exceed 2^53). */
  baseOffset: string
  /** `'-1'` unless the topic uses LogAppendTime. */
  logAppendTime: string
  logStartOffset: string
}

export interface ProduceResponse {
  partitions: ProducePartitionResponse[]
  throttleTimeMs: number
}

/** Decodes a Produce v7 response body (throws CORRUPT_RECORD on a truncated answer). */
export function decodeProduceResponse(buf: Buffer): ProduceResponse {
  let pos = 0
  const need = (n: number): void => checkLength(buf, pos, n, 'Produce')
  const partitions: ProducePartitionResponse[] = []
  need(4)
  const topics = buf.readInt32BE(pos)
  pos += 4
  for (let i = 0; i < topics; i++) {
    const head = readTopicHead(buf, pos, 'Produce')
    const { topic } = head
    const n = head.partitions
    pos = head.pos
    for (let j = 0; j < n; j++) {
      need(30)
      partitions.push({
        topic,
        partition: buf.readInt32BE(pos),
        errorCode: buf.readInt16BE(pos + 4),
        baseOffset: buf.readBigInt64BE(pos + 6).toString(),
        logAppendTime: buf.readBigInt64BE(pos + 14).toString(),
        logStartOffset: buf.readBigInt64BE(pos + 22).toString(),
      })
      pos += 30
    }
  }
  need(4)
  return { partitions, throttleTimeMs: buf.readInt32BE(pos) }
}
