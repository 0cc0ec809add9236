/**
 * kafkatune's own wire codecs: RecordBatch v2 (encode, decode, CRC32C, compression through injected
 * codecs) and the Produce request/response. Pure Node: bytes in, objects out; no kafkajs.
 */
export * from './types.js'
export { crc32c, crc32cJs, crc32cImplementation } from './crc32c.js'
export { encodeRecordBatch, prepareRecordBatch, controlRecordKey, RECORD_BATCH_HEADER_BYTES } from './record-batch-encode.js'
export type { EncodeBatchOptions, RecordBatchWriter } from './record-batch-encode.js'
export { decodeRecordBatch, decodeRecordBatches, decodeRecordBatchHeader, decodeControlRecord } from './record-batch-decode.js'
export type { DecodeOptions } from './record-batch-decode.js'
export { encodeProduceRequest, decodeProduceResponse, PRODUCE_API_KEY, PRODUCE_VERSION } from './produce.js'
export type { ProduceRequest, ProduceResponse, ProducePartitionResponse, ProduceTopicData, ProducePartitionData } from './produce.js'
export { sizeOfVarInt, sizeOfVarLong, writeVarInt, writeVarLong, readVarInt, readVarLong } from './varint.js'
export { encodeFetchRequest, decodeFetchResponse, FETCH_API_KEY, FETCH_VERSION } from './fetch.js'
export type { FetchRequest, FetchResponse, FetchPartitionResponse } from './fetch.js'
