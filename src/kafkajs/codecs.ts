/** kafkatune's snappy, lz4 and zstd codecs in kafkajs' process-wide `CompressionCodecs` registry. */
import kafkajs from 'kafkajs'
import { COMPRESSION_TYPE_IDS, getCodec, loadCodec } from '../codecs/index.js'
import type { CodecName, KafkaCodec } from '../codecs/index.js'

// kafkajs is CommonJS and Node's ESM loader does not see `CompressionCodecs` as a named export.
const { CompressionCodecs } = kafkajs

const NATIVE = ['snappy', 'lz4', 'zstd'] as const
/** Marks the registry entries kafkatune put there, also across copies of kafkatune sharing one kafkajs. */
const OURS = Symbol.for('kafkatune.codecFactory')
type Factory = (() => KafkaCodec) & { [OURS]?: true }
const registry = CompressionCodecs as Record<number, Factory>

function ours(factory: () => KafkaCodec): Factory {
  ;(factory as Factory)[OURS] = true
  return factory
}

/** True when `entry` gives a codec: kafkajs's own entries for snappy, lz4 and zstd throw "not implemented". */
function givesCodec(entry: Factory | undefined): boolean {
  if (entry === undefined) return false
  if (entry[OURS] === true) return true
  try {
    return typeof entry() === 'object'
  } catch {
    return false
  }
}

/**
 * Registers snappy, lz4 and zstd into kafkajs' process-wide `CompressionCodecs` (producing and consuming
 * both need it); idempotent. Loads the three packages now and returns the codecs now registered; a codec whose
 * package failed to load is left out (and reported by `codecAvailable`).
 */
export function registerCodecs(): CodecName[] {
  const registered: CodecName[] = ['gzip']
  for (const name of NATIVE) {
    const entry = loadCodec(name)
    if ('codec' in entry) {
      const codec = entry.codec
      registry[COMPRESSION_TYPE_IDS[name]] = ours(() => codec)
      registered.push(name)
    }
  }
  return registered
}

/**
 * What every kafkatune client does: fills kafkajs' registry where it has no snappy, lz4 or zstd codec,
 * without loading them. Each package (a native binary, 3-6 MB of resident memory apiece) loads the first time
 * kafkajs asks for its codec, so a process only pays for the codecs it meets. A package that does not load
 * then fails that compression or decompression with a `KafkatuneError` (`CONFIG_INVALID`) naming it. A codec
 * already there (kafkatune's, or one the application registered) is kept.
 */
export function registerLazyCodecs(): void {
  for (const name of NATIVE) {
    const id = COMPRESSION_TYPE_IDS[name]
    if (!givesCodec(registry[id])) registry[id] = ours(() => getCodec(name))
  }
}
