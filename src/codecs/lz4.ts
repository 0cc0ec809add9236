import { loadNative } from './load.js'
import { SYNC_LIMIT } from './types.js'
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
  return {
    async compress(encoder) {
      const input = encoder.buffer
      return input.length <= SYNC_LIMIT ? mod.compressFrameSync(input) : await mod.compressFrame(input)
    },
    async decompress(buffer) {
      return buffer.length <= SYNC_LIMIT ? mod.decompressFrameSync(buffer) : await mod.decompressFrame(buffer)
    },
  }
}

/** Loads `lz4-napi` (napi-rs over lz4_flex, prebuilt binaries inside npm). */
export function loadLz4(): { codec: KafkaCodec } | { error: Error } {
  const loaded = loadNative<Lz4Module>('lz4-napi')
  return 'error' in loaded ? loaded : { codec: createLz4Codec(loaded.module) }
}
