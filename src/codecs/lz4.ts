import { loadNative } from './load.js'
import { SYNC_LIMIT } from './types.js'
import { kafkaCodec } from './types.js'
import type { KafkaCodec } from './types.js'

interface Lz4Module {
  compressFrame(data: Uint8Array): Promise<Buffer>
  compressFrameSync(data: Buffer): Buffer
  decompressFrame(data: Uint8Array): Promise<Buffer>
  decompressFrameSync(data: Buffer): Buffer
}

/**
 * LZ4 for Kafka: the standard LZ4 frame format (magic `04 22 4d 18`), independent 64 KiB blocks, no
 * checksums, as Kafka's `KafkaLZ4BlockOutputStream` writes and reads for record batches (magic v2).
 */
export function createLz4Codec(mod: Lz4Module): KafkaCodec {
  const records = {
    compress: (input: Buffer): Buffer | Promise<Buffer> => (input.length <= SYNC_LIMIT ? mod.compressFrameSync(input) : mod.compressFrame(input)),
    decompress: (buffer: Buffer): Buffer | Promise<Buffer> => (buffer.length <= SYNC_LIMIT ? mod.decompressFrameSync(buffer) : mod.decompressFrame(buffer)),
  }
  return kafkaCodec(records)
}

/** Loads `lz4-napi` (napi-rs over lz4_flex, prebuilt binaries inside npm). */
export function loadLz4(): { codec: KafkaCodec } | { error: Error } {
  const loaded = loadNative<Lz4Module>('lz4-napi')
  return 'error' in loaded ? loaded : { codec: createLz4Codec(loaded.module) }
}
