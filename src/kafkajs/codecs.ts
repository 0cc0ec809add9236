/** kafkatune's snappy, lz4 and zstd codecs in kafkajs' process-wide `CompressionCodecs` registry. */
import kafkajs from 'kafkajs'
import { COMPRESSION_TYPE_IDS, loadCodec } from '../codecs/index.js'
import type { CodecName, KafkaCodec } from '../codecs/index.js'

// kafkajs is CommonJS and Node's ESM loader does not see `CompressionCodecs` as a named export.
const { CompressionCodecs } = kafkajs

/**
 * Registers snappy, lz4 and zstd into kafkajs' process-wide `CompressionCodecs` (producing and consuming
 * both need it); idempotent. Returns the codecs now registered; a codec whose package failed to load is
 * left out (and reported by `codecAvailable`).
 */
export function registerCodecs(): CodecName[] {
  const registry = CompressionCodecs as Record<number, () => KafkaCodec>
  const registered: CodecName[] = ['gzip']
  for (const name of ['snappy', 'lz4', 'zstd'] as const) {
    const entry = loadCodec(name)
    if ('codec' in entry) {
      const codec = entry.codec
      registry[COMPRESSION_TYPE_IDS[name]] = () => codec
      registered.push(name)
    }
  }
  return registered
}
