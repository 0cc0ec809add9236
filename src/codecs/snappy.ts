import { loadNative } from './load.js'
import { SYNC_LIMIT } from './types.js'
import { kafkaCodec } from './types.js'
import type { KafkaCodec } from './types.js'

interface SnappyModule {
  compress(input: Uint8Array): Promise<Buffer>
  compressSync(input: Uint8Array): Buffer
  uncompress(input: Uint8Array, options: { asBuffer: true }): Promise<Buffer | string>
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer | string
}

/** `\x82SNAPPY\x00`: the xerial snappy-java stream header that Java producers write. */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
/** Magic (8 bytes) + version (int32 BE) + compatible version (int32 BE). */
const XERIAL_HEADER_LENGTH = 16

/** True when `buf` starts with the xerial snappy-java stream header. */
export function isXerialFramed(buf: Buffer): boolean {
  return buf.length >= XERIAL_HEADER_LENGTH && buf.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
}

/**
 * Splits a xerial-framed buffer into its raw snappy blocks: after the 16-byte header come
 * `[int32 BE length][snappy block]` chunks until the end.
 */
export function xerialBlocks(buf: Buffer): Buffer[] {
  const blocks: Buffer[] = []
  let offset = XERIAL_HEADER_LENGTH
  while (offset < buf.length) {
    if (offset + 4 > buf.length) throw new Error(`truncated xerial snappy chunk header at byte ${offset}`)
    const length = buf.readUInt32BE(offset)
    offset += 4
    if (offset + length > buf.length) throw new Error(`xerial snappy chunk of ${length} bytes at byte ${offset} runs past the end (${buf.length})`)
    blocks.push(buf.subarray(offset, offset + length))
    offset += length
  }
  return blocks
}

/** Frames raw snappy blocks the way snappy-java's `SnappyOutputStream` does (used by tests and for Java-style output). */
export function xerialFrame(blocks: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_LENGTH)
  XERIAL_MAGIC.copy(header, 0)
  header.writeInt32BE(1, 8)
  header.writeInt32BE(1, 12)
  const parts: Buffer[] = [header]
  for (const b of blocks) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(b.length, 0)
    parts.push(len, b)
  }
  return Buffer.concat(parts)
}

function asBuffer(out: Buffer | string): Buffer {
  return typeof out === 'string' ? Buffer.from(out, 'binary') : out
}

/** Snappy for Kafka: writes raw snappy (readable by Java, librdkafka and kafkajs-snappy), reads raw or xerial-framed. */
export function createSnappyCodec(mod: SnappyModule): KafkaCodec {
  const decompressBlock = async (block: Buffer): Promise<Buffer> =>
    block.length <= SYNC_LIMIT ? asBuffer(mod.uncompressSync(block, { asBuffer: true })) : asBuffer(await mod.uncompress(block, { asBuffer: true }))
  const decompress = async (buffer: Buffer): Promise<Buffer> => {
    if (!isXerialFramed(buffer)) return await decompressBlock(buffer)
    const out: Buffer[] = []
    for (const block of xerialBlocks(buffer)) out.push(await decompressBlock(block))
    return out.length === 1 ? out[0]! : Buffer.concat(out)
  }
  const records = {
    compress: (input: Buffer): Buffer | Promise<Buffer> => (input.length <= SYNC_LIMIT ? mod.compressSync(input) : mod.compress(input)),
    decompress: (buffer: Buffer): Buffer | Promise<Buffer> => {
      if (buffer.length <= SYNC_LIMIT && !isXerialFramed(buffer)) return asBuffer(mod.uncompressSync(buffer, { asBuffer: true }))
      return decompress(buffer)
    },
  }
  return kafkaCodec(records, decompress)
}

/** Loads the `snappy` package (napi-rs, prebuilt binaries inside npm). */
export function loadSnappy(): { codec: KafkaCodec } | { error: Error } {
  const loaded = loadNative<SnappyModule>('snappy')
  return 'error' in loaded ? loaded : { codec: createSnappyCodec(loaded.module) }
}
