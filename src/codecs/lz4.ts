import { loadNative } from './load.js'
import { SYNC_LIMIT } from './types.js'
import { kafkaCodec } from './types.js'
import type { KafkaCodec } from './types.js'
import type { PlacedBytes } from '../protocol/types.js'

interface Lz4Module {
  compressFrame(data: Uint8Array): Promise<Buffer>
  compressFrameSync(data: Buffer): Buffer
  /** One LZ4 block, prefixed with its uncompressed size (4 bytes, little-endian). */
  compressSync(data: Buffer): Buffer
  decompressFrame(data: Uint8Array): Promise<Buffer>
  decompressFrameSync(data: Buffer): Buffer
}

/**
 * The frame header kafkatune writes: magic `04 22 4d 18`, FLG 0x60 (version 1, independent blocks, no
 * checksums, no content size), BD 0x40 (blocks up to 64 KiB), and the header checksum of FLG and BD
 * (the second byte of their xxHash32), the same bytes lz4_flex's frame encoder writes.
 */
const FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82])
const MAX_BLOCK = 64 * 1024
const UNCOMPRESSED_BLOCK = 0x80000000

/**
 * Up to this size the frame is built here around synchronous block compression: lz4_flex's frame encoder
 * measured ~1.6x the CPU of its block encoder on record batches, and the async variant adds a thread-pool
 * round trip per batch. Larger inputs compress asynchronously so the event loop stays free.
 */
export const LZ4_SYNC_LIMIT = 1024 * 1024

/**
 * `input` as one LZ4 frame of independent blocks, each block compressed by `block` (or stored when it does
 * not shrink), after `headroom` bytes left free for the caller.
 */
export function lz4Frame(input: Buffer, block: (data: Buffer) => Buffer, headroom = 0): Buffer {
  const frame = lz4FrameWriter(input, block)
  const out = Buffer.allocUnsafe(headroom + frame.size)
  frame.writeInto(out, headroom)
  return out
}

/**
 * `input` as one LZ4 frame of independent blocks, each block compressed by `block` (or stored when it does
 * not shrink), compressed now and written later by `writeInto` (into a request body, say): the compressed
 * blocks are kept, not `input` (a stored block is copied), and no buffer is allocated for the whole frame.
 */
export function lz4FrameWriter(input: Buffer, block: (data: Buffer) => Buffer): PlacedBytes {
  const parts: Buffer[] = []
  const words: number[] = []
  let size = FRAME_HEADER.length + 4
  for (let start = 0; start < input.length; start += MAX_BLOCK) {
    const chunk = input.subarray(start, Math.min(input.length, start + MAX_BLOCK))
    const c = block(chunk)
    const compressed = c.length - 4
    if (compressed < chunk.length) {
      parts.push(c.subarray(4))
      words.push(compressed)
    } else {
      parts.push(Buffer.from(chunk))
      words.push((UNCOMPRESSED_BLOCK | chunk.length) >>> 0)
    }
    size += 4 + (parts[parts.length - 1] as Buffer).length
  }
  return {
    size,
    writeInto(buf, offset) {
      buf.set(FRAME_HEADER, offset)
      let pos = offset + FRAME_HEADER.length
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as Buffer
        buf.writeUInt32LE(words[i] as number, pos)
        buf.set(part, pos + 4)
        pos += 4 + part.length
      }
      buf.writeUInt32LE(0, pos)
    },
  }
}

/**
 * LZ4 for Kafka: the standard LZ4 frame format (magic `04 22 4d 18`), independent blocks, no checksums,
 * as Kafka's `KafkaLZ4BlockOutputStream` writes and reads for record batches (magic v2).
 */
export function createLz4Codec(mod: Lz4Module): KafkaCodec {
  const block = (data: Buffer): Buffer => mod.compressSync(data)
  const records = {
    compress: (input: Buffer): Buffer | Promise<Buffer> => (input.length <= LZ4_SYNC_LIMIT ? lz4Frame(input, block) : mod.compressFrame(input)),
    compressAfter: (input: Buffer, headroom: number): Buffer | null => (input.length <= LZ4_SYNC_LIMIT ? lz4Frame(input, block, headroom) : null),
    compressWriter: (input: Buffer): PlacedBytes | null => (input.length <= LZ4_SYNC_LIMIT ? lz4FrameWriter(input, block) : null),
    decompress: (buffer: Buffer): Buffer | Promise<Buffer> => (buffer.length <= SYNC_LIMIT ? mod.decompressFrameSync(buffer) : mod.decompressFrame(buffer)),
  }
  return kafkaCodec(records)
}

/** Loads `lz4-napi` (napi-rs over lz4_flex, prebuilt binaries inside npm). */
export function loadLz4(): { codec: KafkaCodec } | { error: Error } {
  const loaded = loadNative<Lz4Module>('lz4-napi')
  return 'error' in loaded ? loaded : { codec: createLz4Codec(loaded.module) }
}
