import { KafkatuneError } from '../errors.js'
import { createGzipCodec } from './gzip.js'
import { loadLz4 } from './lz4.js'
import { loadSnappy } from './snappy.js'
import type { CodecLookup } from '../protocol/types.js'
import type { CodecName, KafkaCodec } from './types.js'
import { loadZstd } from './zstd.js'

export type { CodecName, KafkaCodec } from './types.js'

type Loader = () => { codec: KafkaCodec } | { error: Error }

/** Kafka's compression type ids (the attributes bits of a record batch). */
export const COMPRESSION_TYPE_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

const LOADERS: Record<Exclude<CodecName, 'gzip'>, { load: Loader; pkg: string }> = {
  snappy: { load: loadSnappy, pkg: 'snappy' },
  lz4: { load: loadLz4, pkg: 'lz4-napi' },
  zstd: { load: loadZstd, pkg: '@mongodb-js/zstd' },
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

/** The native codecs whose packages this process tried to load so far (for tests and diagnostics). */
export function loadedCodecs(): Exclude<CodecName, 'gzip'>[] {
  return [...loaded.keys()] as Exclude<CodecName, 'gzip'>[]
}

/** Loads a codec once; `{ error }` when its package did not load. */
export function loadCodec(name: Exclude<CodecName, 'gzip'>): { codec: KafkaCodec } | { error: Error } {
  return load(name)
}

export { registerCodecs } from '../kafkajs/codecs.js'
