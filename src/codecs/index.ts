import kafkajs from 'kafkajs'
import { KafkatuneError } from '../errors.js'
import { createGzipCodec } from './gzip.js'
import { loadLz4 } from './lz4.js'
import { loadSnappy } from './snappy.js'
import type { CodecLookup } from '../protocol/types.js'
import type { CodecName, KafkaCodec } from './types.js'
import { loadZstd } from './zstd.js'

export type { CodecName, KafkaCodec } from './types.js'

// kafkajs is CommonJS and Node's ESM loader does not see `CompressionCodecs` as a named export.
const { CompressionCodecs, CompressionTypes } = kafkajs

type Loader = () => { codec: KafkaCodec } | { error: Error }

const LOADERS: Record<Exclude<CodecName, 'gzip'>, { type: number; load: Loader; pkg: string }> = {
  snappy: { type: CompressionTypes.Snappy, load: loadSnappy, pkg: 'snappy' },
  lz4: { type: CompressionTypes.LZ4, load: loadLz4, pkg: 'lz4-napi' },
  zstd: { type: CompressionTypes.ZSTD, load: loadZstd, pkg: '@mongodb-js/zstd' },
}

let gzip: KafkaCodec | undefined
const loaded = new Map<CodecName, { codec: KafkaCodec } | { error: Error }>()

function load(name: Exclude<CodecName, 'gzip'>): { codec: KafkaCodec } | { error: Error } {
  let entry = loaded.get(name)
  if (entry === undefined) {
    entry = LOADERS[name].load()
    loaded.set(name, entry)
  }
  return entry
}

/** The codec kafkatune uses for `name`, or a `KafkatuneError` (`CONFIG_INVALID`) saying which package failed to load. */
export function getCodec(name: CodecName): KafkaCodec {
  if (name === 'gzip') return (gzip ??= createGzipCodec())
  const entry = load(name)
  if ('error' in entry) {
    throw new KafkatuneError('CONFIG_INVALID', `compression '${name}' is unavailable: package ${LOADERS[name].pkg} did not load (${entry.error.message})`, {
      cause: entry.error,
      retriable: false,
    })
  }
  return entry.codec
}

/** True when `name` (`'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'`) can be used on this platform. */
export function codecAvailable(name: string): boolean {
  if (name === 'none' || name === 'gzip') return true
  if (name !== 'snappy' && name !== 'lz4' && name !== 'zstd') return false
  return 'codec' in load(name)
}

/** The codecs of kafkatune's own record batches (`src/protocol`), by compression name. */
export const recordsCodecs: CodecLookup = (name) => {
  const codec = getCodec(name)
  return codec.records ?? { compress: (data) => codec.compress({ buffer: data }), decompress: (data) => codec.decompress(data) }
}

/**
 * Registers snappy, lz4 and zstd into kafkajs' process-wide `CompressionCodecs` (producing and consuming
 * both need it); idempotent. Returns the codecs now registered; a codec whose package failed to load is
 * left out (and reported by `codecAvailable`).
 */
export function registerCodecs(): CodecName[] {
  const registry = CompressionCodecs as Record<number, () => KafkaCodec>
  const registered: CodecName[] = ['gzip']
  for (const name of ['snappy', 'lz4', 'zstd'] as const) {
    const entry = load(name)
    if ('codec' in entry) {
      const codec = entry.codec
      registry[LOADERS[name].type] = () => codec
      registered.push(name)
    }
  }
  return registered
}
