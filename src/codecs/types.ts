import type { RecordsCodec } from '../protocol/types.js'

/** The codec shape kafkajs calls: `compress` gets its `Encoder` (we read `.buffer`). */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
  /**
   * The same codec on plain buffers for kafkatune's own record batches: synchronous up to `SYNC_LIMIT`
   * (no promise per batch), asynchronous above. Codecs without it are used through `compress`/`decompress`.
   */
  records?: RecordsCodec
}

/** Codecs kafkatune registers into kafkajs (gzip is built into kafkajs). */
export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd'

/**
 * Up to this size the native call runs synchronously (well under a millisecond per batch, no thread-pool
 * round trip); larger inputs use the async variant so the event loop stays free while they compress.
 */
export const SYNC_LIMIT = 64 * 1024

/** The kafkajs codec shape around a records codec (`decompress` overrides the records one, e.g. to read more framings). */
export function kafkaCodec(records: RecordsCodec, decompress?: (buffer: Buffer) => Promise<Buffer>): KafkaCodec {
  return {
    async compress(encoder) {
      return await records.compress(encoder.buffer)
    },
    decompress: decompress ?? (async (buffer) => await records.decompress(buffer)),
    records,
  }
}
