import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { SYNC_LIMIT } from './types.js'
import { kafkaCodec } from './types.js'
import type { KafkaCodec } from './types.js'

const gzipAsync = promisify(zlib.gzip)
const gunzipAsync = promisify(zlib.gunzip)

/** Gzip for Kafka through node:zlib (sync up to `SYNC_LIMIT`, the thread pool above). */
export function createGzipCodec(): KafkaCodec {
  const records = {
    compress: (input: Buffer): Buffer | Promise<Buffer> => (input.length <= SYNC_LIMIT ? zlib.gzipSync(input) : gzipAsync(input)),
    decompress: (buffer: Buffer): Buffer | Promise<Buffer> => (buffer.length <= SYNC_LIMIT ? zlib.gunzipSync(buffer) : gunzipAsync(buffer)),
  }
  return kafkaCodec(records)
}
