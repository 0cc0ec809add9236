/**
 * RecordBatch v2 decoder: header fields, CRC check, one decompression per batch, records as views
 * (`subarray`) into the batch bytes, no copy of keys, values or header values. A fetch response's
 * records field may end with a partial batch (the broker cuts at the fetch size): `decodeRecordBatches`
 * stops there and reports how many bytes it used.
 */
import { KafkatuneError } from '../errors.js'
import { crc32c } from './crc32c.js'
import { RECORD_BATCH_HEADER_BYTES } from './record-batch-encode.js'
import type { CodecLookup, CompressionName, ControlRecord, DecodedBatch, DecodedRecord, RecordBatchHeader, RecordHeader } from './types.js'
import type { Cursor } from './varint.js'
import { MalformedInputError, readVarInt, readVarLong } from './varint.js'

const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** Options of the decoders. */
export interface DecodeOptions {
  /** Needed for compressed batches. */
  codecs?: CodecLookup
  /** Check each batch's CRC32C. @default true */
  verifyCrc?: boolean
}

function corrupt(message: string, cause?: unknown): KafkatuneError {
  return new KafkatuneError('CORRUPT_RECORD', `Corrupt record batch: ${message}`, { retriable: false, cause })
}

function readInt64Number(buf: Buffer, offset: number): number {
  return buf.readInt32BE(offset) * 0x100000000 + buf.readUInt32BE(offset + 4)
}

/** Reads the 61-byte header of the batch at `offset` (throws CORRUPT_RECORD when it is not a v2 batch). */
export function decodeRecordBatchHeader(buf: Buffer, offset = 0): RecordBatchHeader {
  if (buf.length - offset < RECORD_BATCH_HEADER_BYTES) throw corrupt(`${buf.length - offset} bytes is shorter than a batch header`)
  const magic = buf.readInt8(offset + 16)
  if (magic !== 2) throw corrupt(`magic ${magic} (only v2 batches are supported)`)
  const attributes = buf.readInt16BE(offset + 21)
  const compression = COMPRESSION_NAMES[attributes & 0x07]
  if (compression === undefined) throw corrupt(`unknown compression type ${attributes & 0x07}`)
  return {
    baseOffset: buf.readBigInt64BE(offset),
    batchLength: buf.readInt32BE(offset + 8),
    partitionLeaderEpoch: buf.readInt32BE(offset + 12),
    magic,
    crc: buf.readUInt32BE(offset + 17),
    attributes,
    compression,
    timestampType: (attributes & 0x08) !== 0 ? 'log-append' : 'create',
    transactional: (attributes & 0x10) !== 0,
    control: (attributes & 0x20) !== 0,
    lastOffsetDelta: buf.readInt32BE(offset + 23),
    baseTimestamp: readInt64Number(buf, offset + 27),
    maxTimestamp: readInt64Number(buf, offset + 35),
    producerId: buf.readBigInt64BE(offset + 43),
    producerEpoch: buf.readInt16BE(offset + 51),
    baseSequence: buf.readInt32BE(offset + 53),
    recordCount: buf.readInt32BE(offset + 57),
  }
}

function readBytes(c: Cursor): Buffer | null {
  const len = readVarInt(c)
  if (len < 0) return null
  const start = c.pos
  const end = start + len
  if (end > c.buf.length) throw new MalformedInputError(`${len} bytes at byte ${start} run past the end (${c.buf.length})`)
  c.pos = end
  return c.buf.subarray(start, end)
}

/**
 * Makes one record object from its decoded fields. `decodeRecordBatch` makes `DecodedRecord`s; the consumer's
 * fetch path makes kafkajs's message objects straight away (no object in between). `headers` is shared and
 * frozen when the record has none: a maker that hands out a mutable list copies it.
 */
export type RecordMaker<R> = (h: RecordBatchHeader, offsetDelta: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[]) => R

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([])

const decodedRecord: RecordMaker<DecodedRecord> = (h, offsetDelta, timestamp, key, value, headers) => ({
  offsetDelta,
  offset: h.baseOffset + BigInt(offsetDelta),
  timestamp,
  key,
  value,
  headers: headers.length === 0 ? [] : (headers as RecordHeader[]),
})

function decodeRecords<R>(section: Buffer, h: RecordBatchHeader, make: RecordMaker<R>, out: R[]): void {
  const c: Cursor = { buf: section, pos: 0 }
  const logAppend = h.timestampType === 'log-append'
  for (let i = 0; i < h.recordCount; i++) {
    const length = readVarInt(c)
    const end = c.pos + length
    if (length < 0 || end > section.length) throw new MalformedInputError(`record ${i} of ${length} bytes runs past the end of the records`)
    c.pos++ // attributes: unused in v2
    const timestampDelta = readVarLong(c)
    const offsetDelta = readVarInt(c)
    const key = readBytes(c)
    const value = readBytes(c)
    const headerCount = readVarInt(c)
    if (headerCount < 0) throw new MalformedInputError(`record ${i} has ${headerCount} headers`)
    let headers = NO_HEADERS
    if (headerCount > 0) {
      const list: RecordHeader[] = []
      for (let j = 0; j < headerCount; j++) {
        const hk = readBytes(c)
        if (hk === null) throw new MalformedInputError(`record ${i} has a null header key`)
        list.push({ key: hk.toString('utf8'), value: readBytes(c) })
      }
      headers = list
    }
    if (c.pos !== end) throw new MalformedInputError(`record ${i} declares ${length} bytes but holds ${length + c.pos - end}`)
    out.push(make(h, offsetDelta, logAppend ? h.maxTimestamp : h.baseTimestamp + timestampDelta, key, value, headers))
  }
  if (c.pos !== section.length) throw new MalformedInputError(`${section.length - c.pos} bytes left after ${h.recordCount} records`)
}

/** Decodes one complete batch that starts at `offset` (its CRC is checked unless disabled). */
export async function decodeRecordBatch(buf: Buffer, offset = 0, options: DecodeOptions = {}): Promise<DecodedBatch> {
  const records: DecodedRecord[] = []
  const h = await decodeBatchInto(buf, offset, options, decodedRecord, records)
  return { ...h, records }
}

/** Decodes the batch at `offset`, each record made by `make` and pushed onto `out`; returns the batch's header. */
async function decodeBatchInto<R>(buf: Buffer, offset: number, options: DecodeOptions, make: RecordMaker<R>, out: R[]): Promise<RecordBatchHeader> {
  const h = decodeRecordBatchHeader(buf, offset)
  const total = h.batchLength + 12
  if (h.batchLength < RECORD_BATCH_HEADER_BYTES - 12 || offset + total > buf.length) throw corrupt(`batch of ${total} bytes at byte ${offset} runs past the end (${buf.length})`)
  const batch = buf.subarray(offset, offset + total)
  if (options.verifyCrc !== false) {
    const crc = crc32c(batch.subarray(21))
    if (crc !== h.crc) throw corrupt(`CRC32C ${crc.toString(16)} does not match the stored ${h.crc.toString(16)} (batch at offset ${h.baseOffset})`)
  }
  let section = batch.subarray(RECORD_BATCH_HEADER_BYTES)
  if (h.compression !== 'none') {
    const codecs = options.codecs
    if (codecs === undefined) throw new KafkatuneError('CONFIG_INVALID', `A ${h.compression}-compressed batch needs a codec lookup`, { retriable: false })
    try {
      section = await codecs(h.compression).decompress(section)
    } catch (err) {
      if (err instanceof KafkatuneError) throw err
      throw corrupt(`${h.compression} decompression failed: ${err instanceof Error ? err.message : String(err)}`, err)
    }
  }
  try {
    decodeRecords(section, h, make, out)
    return h
  } catch (err) {
    if (err instanceof MalformedInputError) throw corrupt(err.message, err)
    throw err
  }
}

/** Calls `visit` with the start of every complete batch in `buf`, in order; returns where the complete batches end. */
async function eachCompleteBatch(buf: Buffer, visit: (offset: number) => Promise<void>): Promise<number> {
  let offset = 0
  while (buf.length - offset >= 12) {
    const total = buf.readInt32BE(offset + 8) + 12
    if (total < RECORD_BATCH_HEADER_BYTES) throw corrupt(`batch length ${total - 12} at byte ${offset}`)
    if (offset + total > buf.length) break
    await visit(offset)
    offset += total
  }
  return offset
}

/**
 * Decodes every complete batch in `buf` (a fetch response's records field); a trailing partial batch
 * is left out. `bytesUsed` is where the complete batches end.
 */
export async function decodeRecordBatches(buf: Buffer, options: DecodeOptions = {}): Promise<{ batches: DecodedBatch[]; bytesUsed: number }> {
  const batches: DecodedBatch[] = []
  const bytesUsed = await eachCompleteBatch(buf, async (offset) => void batches.push(await decodeRecordBatch(buf, offset, options)))
  return { batches, bytesUsed }
}

/**
 * `decodeRecordBatches` with the records of every complete batch made by `make` into one list, in offset order
 * (the consumer's fetch path). `batches` counts the batches decoded.
 */
export async function decodeRecordsOfBatches<R>(buf: Buffer, options: DecodeOptions, make: RecordMaker<R>): Promise<{ records: R[]; batches: number; bytesUsed: number }> {
  const records: R[] = []
  let batches = 0
  const bytesUsed = await eachCompleteBatch(buf, async (offset) => {
    await decodeBatchInto(buf, offset, options, make, records)
    batches++
  })
  return { records, batches, bytesUsed }
}

/** Reads a control record's key (transaction markers): version and type. */
export function decodeControlRecord(key: Buffer | null): ControlRecord {
  if (key === null || key.length < 4) throw corrupt('control record without a 4-byte key')
  const type = key.readInt16BE(2)
  return { version: key.readInt16BE(0), type: type === 0 ? 'abort' : type === 1 ? 'commit' : 'unknown' }
}
