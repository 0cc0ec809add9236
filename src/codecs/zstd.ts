import { loadNative } from './load.js'
import { kafkaCodec } from './types.js'
import type { KafkaCodec } from './types.js'

interface ZstdModule {
  compress(data: Buffer, level?: number | null): Promise<Buffer>
  decompress(data: Buffer): Promise<Buffer>
}

/** compression.zstd.level default of the Java client. */
export const ZSTD_DEFAULT_LEVEL = 3

/** Zstandard for Kafka: plain zstd frames; reads frames without a content size too (Java's zstd-jni streams write those). */
export function createZstdCodec(mod: ZstdModule, level = ZSTD_DEFAULT_LEVEL): KafkaCodec {
  return kafkaCodec({
    compress: (input) => mod.compress(input, level),
    decompress: (buffer) => mod.decompress(buffer),
  })
}

/** Loads `@mongodb-js/zstd` 1.x (napi-rs, prebuilt binaries inside npm; 2.x downloads at install). */
export function loadZstd(): { codec: KafkaCodec } | { error: Error } {
  const loaded = loadNative<ZstdModule>('@mongodb-js/zstd')
  return 'error' in loaded ? loaded : { codec: createZstdCodec(loaded.module) }
}
