/** The producer's settings: one row per `ProducerTuning` option, plus `transactionalId`. */
import { z } from 'zod'
import { COMPRESSION_IDS } from '../../protocol/types.js'
import type { ProducerTuning } from '../types.js'
import { JAVA_DEFAULT, nonNegInt, posInt, serializerLike, serializerName, type Setting, type TuningSettingsOf } from './setting.js'

const JAVA_UNLIMITED = 2_147_483_647
const partitionerName = z.enum(['default', 'murmur2', 'sticky', 'round-robin'])

export const PRODUCER_SETTINGS = {
  acks: {
    schema: z.union([z.literal(0), z.literal(1), z.literal('all')], { message: "must be 0, 1 or 'all'" }),
    default: 'all',
    java: 'acks',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'send', option: 'acks', convert: (acks) => (acks === 'all' ? -1 : acks) }],
    pipeline: { applied: 'acks of each output request (transactions always use all)' },
  },
  lingerMs: {
    schema: nonNegInt,
    default: 5,
    java: 'linger.ms',
    reason: JAVA_DEFAULT,
    pipeline: { rejected: 'the pipeline sends the outputs of each chunk of input records at once, in its transaction; size chunks with consumer.maxPollRecords instead' },
  },
  batchSize: {
    schema: posInt,
    default: 16_384,
    java: 'batch.size',
    reason: JAVA_DEFAULT,
    pipeline: { applied: "bytes per output batch, and the sticky partitioner's switch after batchSize bytes (KIP-794)" },
  },
  bufferMemory: {
    schema: posInt,
    default: 33_554_432,
    java: 'buffer.memory',
    reason: JAVA_DEFAULT,
    pipeline: { rejected: 'outputs are not buffered across chunks: each chunk is sent and committed before the next one is read' },
  },
  maxBlockMs: {
    schema: nonNegInt,
    default: 60_000,
    java: 'max.block.ms',
    reason: JAVA_DEFAULT,
    pipeline: { rejected: 'outputs are not buffered across chunks, so nothing waits for buffer space' },
  },
  compression: {
    schema: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']),
    default: 'none',
    java: 'compression.type',
    reason: JAVA_DEFAULT,
    // kafkajs's CompressionTypes are Kafka's own codec ids of the batch attributes.
    kafkajs: [{ to: 'send', option: 'compression', convert: (name) => COMPRESSION_IDS[name] }],
    pipeline: { applied: 'compression of the output batches' },
  },
  idempotent: {
    schema: z.boolean(),
    default: true,
    java: 'enable.idempotence',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'producer', option: 'idempotent' }],
    pipeline: { applied: 'idempotence of the output producers (always on with transactions)' },
  },
  maxInFlightRequests: {
    schema: posInt,
    default: 5,
    java: 'max.in.flight.requests.per.connection',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'producer', option: 'maxInFlightRequests' }],
    pipeline: { applied: 'in-flight requests of the output producers' },
  },
  retries: {
    schema: nonNegInt,
    default: JAVA_UNLIMITED,
    java: 'retries',
    reason: JAVA_DEFAULT,
    // kafkajs forgets the retry count of idempotent producers (5, not unlimited), so it is always set. Java's
    // "unlimited" is kafkajs's MAX_SAFE_INTEGER: anything lower makes kafkajs warn that EoS guarantees may
    // break; delivery.timeout.ms bounds the time instead.
    kafkajs: [{ to: 'producer', option: 'retry.retries', convert: (n) => (n >= JAVA_UNLIMITED ? Number.MAX_SAFE_INTEGER : n) }],
    pipeline: { applied: 'retries of the output producers' },
  },
  retryBackoffMs: {
    schema: nonNegInt,
    default: 100,
    java: 'retry.backoff.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'producer', option: 'retry.initialRetryTime' }],
    pipeline: { applied: 'back-off of output and transaction retries' },
  },
  retryBackoffMaxMs: {
    schema: nonNegInt,
    default: 1_000,
    java: 'retry.backoff.max.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'producer', option: 'retry.maxRetryTime' }],
    pipeline: { applied: 'cap of output and transaction back-off' },
  },
  requestTimeoutMs: {
    schema: posInt,
    default: 30_000,
    java: 'request.timeout.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [
      { to: 'client', option: 'requestTimeout' },
      { to: 'send', option: 'timeout' },
    ],
    pipeline: { applied: 'timeout of every request' },
  },
  deliveryTimeoutMs: {
    schema: posInt,
    default: 120_000,
    java: 'delivery.timeout.ms',
    reason: JAVA_DEFAULT,
    pipeline: { applied: 'deadline of each output send inside its transaction (a failed send aborts the transaction, which is retried)' },
  },
  maxRequestSize: {
    schema: posInt,
    default: 1_048_576,
    java: 'max.request.size',
    reason: JAVA_DEFAULT,
    pipeline: { applied: 'largest output request, checked before sending (RECORD_TOO_LARGE); raise it with the topic max.message.bytes for large outputs' },
  },
  transactionTimeoutMs: {
    schema: posInt,
    default: 60_000,
    java: 'transaction.timeout.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'producer', option: 'transactionTimeout' }],
    pipeline: { applied: 'transaction.timeout.ms of each input partition transaction' },
  },
  partitioner: {
    schema: partitionerName,
    optionSchema: z.union([partitionerName, z.custom<(...a: unknown[]) => number>((v) => typeof v === 'function')], {
      message: "must be 'default', 'murmur2', 'sticky', 'round-robin' or a function",
    }),
    default: 'default',
    java: 'partitioner.class',
    reason: JAVA_DEFAULT,
    pipeline: { applied: 'chooses the partition of each output record (murmur2 of the key bytes, sticky for null keys, ...)' },
  },
  keySerializer: {
    schema: serializerName,
    optionSchema: serializerLike,
    default: 'string',
    java: 'key.serializer',
    reason: 'UTF-8 strings, like StringSerializer',
    pipeline: { applied: 'serializes output keys' },
  },
  valueSerializer: {
    schema: serializerName,
    optionSchema: serializerLike,
    default: 'string',
    java: 'value.serializer',
    reason: 'UTF-8 strings, like StringSerializer',
    pipeline: { applied: 'serializes output values' },
  },
} satisfies TuningSettingsOf<ProducerTuning>

/** The producer's identity: not tuning, so never in a preset. */
export const TRANSACTIONAL_ID = {
  schema: z.string().min(1),
  default: undefined,
  java: 'transactional.id',
  reason: 'no transactions unless a transactionalId is given',
  kafkajs: [{ to: 'producer', option: 'transactionalId' }],
} satisfies Setting<string>
