/** Shapes of kafkatune's wire codecs (RecordBatch v2). Pure data, no I/O. */

/** Compression of a batch's records section, as numbered in the batch attributes (bits 0-2). */
export const COMPRESSION_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

export type CompressionName = keyof typeof COMPRESSION_IDS

/** Compresses/decompresses a whole records section (sync or async; codecs live outside this layer). */
export interface RecordsCodec {
  compress(data: Buffer): Buffer | Promise<Buffer>
  decompress(data: Buffer): Buffer | Promise<Buffer>
  /**
   * Compresses synchronously into a new buffer whose first `headroom` bytes are left for the caller (the
   * batch header: no copy of the compressed bytes). `data` is not kept after the call, so the caller may
   * reuse it. Null when this input is not compressed synchronously: the caller uses `compress` instead.
   */
  compressAfter?(data: Buffer, headroom: number): Buffer | null
  /**
   * Compresses synchronously (`data` is not kept after the call, so the caller may reuse it) and places the
   * compressed bytes later, straight into a larger buffer (a Produce request body): no buffer of its own for
   * the whole section. Null when this input is not compressed synchronously.
   */
  compressWriter?(data: Buffer): PlacedBytes | null
}

/** Bytes measured but not yet placed: `writeInto` writes exactly `size` bytes at `offset` of `buf`. */
export interface PlacedBytes {
  readonly size: number
  writeInto(buf: Buffer, offset: number): void
}

/** Finds the codec of a compression type; throws when it is not available. */
export type CodecLookup = (name: Exclude<CompressionName, 'none'>) => RecordsCodec

/** One record header. Keys may repeat and may be empty; a value may be null. */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

/** A record to encode. */
export interface RecordInput {
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** Headers as a list (repeated keys allowed) or an object (one value per key). */
  readonly headers?: readonly RecordHeader[] | Readonly<Record<string, Buffer | null>> | undefined
  /** Create time, ms since the epoch (number or decimal string); absent or `''`: the batch's default time. */
  readonly timestamp?: number | string | undefined
}

/** Batch-level fields of a RecordBatch v2. */
export interface RecordBatchHeader {
  baseOffset: bigint
  /** Bytes after the length field (the whole batch is `batchLength + 12`). */
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  compression: CompressionName
  /** 'create' or 'log-append' (attribute bit 3). */
  timestampType: 'create' | 'log-append'
  transactional: boolean
  control: boolean
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

/** A decoded record; key, value and header values are views into the (decompressed) batch bytes. */
export interface DecodedRecord {
  /** Offset within the batch (add to `baseOffset`). */
  offsetDelta: number
  /** Absolute offset. */
  offset: bigint
  /** Create time (or the batch's max timestamp for log-append topics), ms since the epoch. */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** A decoded batch: its header fields and its records. */
export interface DecodedBatch extends RecordBatchHeader {
  records: DecodedRecord[]
}

/** What a control record (a transaction marker) says. */
export interface ControlRecord {
  version: number
  type: 'abort' | 'commit' | 'unknown'
}
