/** The codec shape kafkajs calls: `compress` gets its `Encoder` (we read `.buffer`). */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

/** Codecs kafkatune registers into kafkajs (gzip is built into kafkajs). */
export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd'

/**
 * Below this size the native call runs synchronously: the thread-pool hop of the async variant costs
 * more than compressing a 64 KiB batch (measured: 2-3x slower at 16 KiB).
 */
export const SYNC_LIMIT = 64 * 1024
