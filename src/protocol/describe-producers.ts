/**
 * DescribeProducers v0 (KIP-664, api key 61): the producers a partition leader holds state for, with each
 * one's last written sequence. A flexible version: compact strings and arrays, tagged fields. kafkajs writes
 * request header v1; the body starts with the empty tagged fields of header v2, which makes the pair a v2
 * header. The response payload kafkajs hands over starts after the correlation id, at response header v1's
 * tagged fields.
 *
 *   DescribeProducersRequest => [topics: name partition_indexes [INT32] TAG_BUFFER] TAG_BUFFER
 *   DescribeProducersResponse => throttle_time_ms [topics: name [partitions: partition_index error_code
 *     error_message [active_producers: producer_id INT64 producer_epoch INT32 last_sequence INT32
 *     last_timestamp INT64 coordinator_epoch INT32 current_txn_start_offset INT64 TAG_BUFFER] TAG_BUFFER]
 *     TAG_BUFFER] TAG_BUFFER
 */
import { checkLength } from './response.js'

export const DESCRIBE_PRODUCERS_API_KEY = 61
export const DESCRIBE_PRODUCERS_VERSION = 0

/** One producer a partition leader holds state for. */
export interface ActiveProducer {
  producerId: bigint
  producerEpoch: number
  /** The last sequence it wrote to the partition (-1: none). */
  lastSequence: number
}

export interface DescribeProducersPartition {
  topic: string
  partition: number
  errorCode: number
  producers: ActiveProducer[]
}

function sizeOfUVarInt(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

function writeUVarInt(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  buf[pos++] = n
  return pos
}

/** The request body (with header v2's empty tagged fields in front). */
export function encodeDescribeProducersRequest(topics: readonly { topic: string; partitions: readonly number[] }[]): Buffer {
  let size = 1 + sizeOfUVarInt(topics.length + 1) + 1
  for (const t of topics) {
    const name = Buffer.byteLength(t.topic, 'utf8')
    size += sizeOfUVarInt(name + 1) + name + sizeOfUVarInt(t.partitions.length + 1) + 4 * t.partitions.length + 1
  }
  const buf = Buffer.alloc(size)
  let pos = 0
  buf[pos++] = 0 // request header v2: no tagged fields
  pos = writeUVarInt(buf, pos, topics.length + 1)
  for (const t of topics) {
    pos = writeUVarInt(buf, pos, Buffer.byteLength(t.topic, 'utf8') + 1)
    pos += buf.write(t.topic, pos, 'utf8')
    pos = writeUVarInt(buf, pos, t.partitions.length + 1)
    for (const p of t.partitions) pos = buf.writeInt32BE(p, pos)
    buf[pos++] = 0 // topic tagged fields
  }
  buf[pos++] = 0 // request tagged fields
  if (pos !== size) throw new Error(`DescribeProducers request size mismatch: ${pos} != ${size}`)
  return buf
}

class Reader {
  pos = 0
  constructor(private readonly buf: Buffer) {}

  uvarint(): number {
    let result = 0
    let shift = 1
    for (let i = 0; i < 5; i++) {
      checkLength(this.buf, this.pos, 1, 'DescribeProducers')
      const b = this.buf[this.pos++] as number
      result += (b & 0x7f) * shift
      if ((b & 0x80) === 0) return result
      shift *= 128
    }
    throw new Error('DescribeProducers response: varint too long')
  }

  int16(): number {
    checkLength(this.buf, this.pos, 2, 'DescribeProducers')
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  int32(): number {
    checkLength(this.buf, this.pos, 4, 'DescribeProducers')
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  int64(): bigint {
    checkLength(this.buf, this.pos, 8, 'DescribeProducers')
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }

  /** A compact (nullable) string. */
  string(): string | null {
    const n = this.uvarint()
    if (n === 0) return null
    checkLength(this.buf, this.pos, n - 1, 'DescribeProducers')
    const s = this.buf.toString('utf8', this.pos, this.pos + n - 1)
    this.pos += n - 1
    return s
  }

  /** A compact array's length (0 for null). */
  arrayLength(): number {
    const n = this.uvarint()
    return n === 0 ? 0 : n - 1
  }

  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      const size = this.uvarint()
      checkLength(this.buf, this.pos, size, 'DescribeProducers')
      this.pos += size
    }
  }
}

/** Decodes the payload after the correlation id (response header v1's tagged fields first). */
export function decodeDescribeProducersResponse(payload: Buffer): { throttleTimeMs: number; partitions: DescribeProducersPartition[] } {
  const r = new Reader(payload)
  r.skipTaggedFields()
  const throttleTimeMs = r.int32()
  const partitions: DescribeProducersPartition[] = []
  const topics = r.arrayLength()
  for (let t = 0; t < topics; t++) {
    const topic = r.string() ?? ''
    const count = r.arrayLength()
    for (let p = 0; p < count; p++) {
      const partition = r.int32()
      const errorCode = r.int16()
      r.string()
      const producers: ActiveProducer[] = []
      const n = r.arrayLength()
      for (let i = 0; i < n; i++) {
        const producerId = r.int64()
        const producerEpoch = r.int32()
        const lastSequence = r.int32()
        r.int64() // last_timestamp
        r.int32() // coordinator_epoch
        r.int64() // current_txn_start_offset
        r.skipTaggedFields()
        producers.push({ producerId, producerEpoch, lastSequence })
      }
      r.skipTaggedFields()
      partitions.push({ topic, partition, errorCode, producers })
    }
    r.skipTaggedFields()
  }
  r.skipTaggedFields()
  return { throttleTimeMs, partitions }
}
