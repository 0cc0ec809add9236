import { z } from 'zod'
import { saslProblem } from './sasl.js'
import { isLogger } from '../logging/types.js'

const posInt = z.number().int('must be an integer').positive('must be > 0')
const nonNegInt = z.number().int('must be an integer').nonnegative('must be >= 0')
const serializerLike = z.custom<object>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { serialize?: unknown }).serialize === 'function' &&
    typeof (v as { deserialize?: unknown }).deserialize === 'function',
  { message: 'must be a Serializer: an object with serialize() and deserialize()' },
)
const serializerName = z.enum(['string', 'bytes', 'json'])

export const connectionShape = {
  brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')).min(1, 'needs at least one broker'),
  clientId: z.string().min(1).optional(),
  ssl: z.union([z.boolean(), z.object({}).passthrough()], { message: 'must be true/false or tls.ConnectionOptions ({ ca, cert, key, ... })' }).optional(),
  sasl: z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = saslProblem(value)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
    })
    .optional(),
  logger: z.custom<object>((v) => isLogger(v), {
    message: 'must be a logger with pino\'s methods (trace, debug, info, warn, error, fatal, child): pino, or loggers.console() / loggers.winston()',
  }).optional(),
  kafkajs: z.object({}).passthrough().optional(),
  preset: z.union([z.enum(['low-latency', 'high-throughput', 'exactly-once']), z.object({}).passthrough()]).optional(),
}

export const producerTuningShape = {
  acks: z.union([z.literal(0), z.literal(1), z.literal('all')], { message: "must be 0, 1 or 'all'" }).optional(),
  lingerMs: nonNegInt.optional(),
  batchSize: posInt.optional(),
  bufferMemory: posInt.optional(),
  maxBlockMs: nonNegInt.optional(),
  compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).optional(),
  idempotent: z.boolean().optional(),
  maxInFlightRequests: posInt.optional(),
  retries: nonNegInt.optional(),
  retryBackoffMs: nonNegInt.optional(),
  retryBackoffMaxMs: nonNegInt.optional(),
  requestTimeoutMs: posInt.optional(),
  deliveryTimeoutMs: posInt.optional(),
  maxRequestSize: posInt.optional(),
  transactionTimeoutMs: posInt.optional(),
  partitioner: z.enum(['default', 'murmur2', 'sticky', 'round-robin']).optional(),
  keySerializer: serializerName.optional(),
  valueSerializer: serializerName.optional(),
}

export const commitShape = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('auto'), intervalMs: posInt.optional() }),
  z.strictObject({ strategy: z.literal('per-message') }),
  z.strictObject({ strategy: z.literal('batch'), size: posInt }),
  z.strictObject({ strategy: z.literal('interval'), intervalMs: posInt }),
  z.strictObject({ strategy: z.literal('hybrid'), size: posInt, intervalMs: posInt }),
])

export const retryShape = z.strictObject({
  attempts: nonNegInt,
  backoffMs: nonNegInt,
  maxBackoffMs: nonNegInt.optional(),
})

export const consumerTuningShape = {
  commit: commitShape.optional(),
  autoOffsetReset: z.enum(['earliest', 'latest', 'none']).optional(),
  isolationLevel: z.enum(['read_committed', 'read_uncommitted']).optional(),
  heartbeatIntervalMs: posInt.optional(),
  sessionTimeoutMs: posInt.optional(),
  maxPollIntervalMs: posInt.optional(),
  maxPollRecords: posInt.optional(),
  fetchMinBytes: posInt.optional(),
  fetchMaxBytes: posInt.optional(),
  fetchMaxWaitMs: nonNegInt.optional(),
  maxPartitionFetchBytes: posInt.optional(),
  partitionAssignors: z.array(z.enum(['range', 'round-robin', 'sticky', 'cooperative-sticky'])).min(1).optional(),
  partitionsConsumedConcurrently: posInt.optional(),
  ordering: z.enum(['partition', 'key', 'unordered']).optional(),
  concurrency: posInt.max(10_000).optional(),
  offsetMetadataMaxBytes: z.number().int().min(64).optional(),
  retry: retryShape.optional(),
  deadLetterTopic: z.string().min(1).optional(),
  keyDeserializer: serializerName.optional(),
  valueDeserializer: serializerName.optional(),
}

export const topicTuningShape = z.strictObject({
  partitions: posInt.optional(),
  replicationFactor: posInt.optional(),
  config: z.record(z.string(), z.string()).optional(),
})

export const producerTuningSchema = z.strictObject(producerTuningShape)
export const consumerTuningSchema = z.strictObject(consumerTuningShape)

export const presetSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  requiresTransactionalId: z.boolean().optional(),
  producer: producerTuningSchema,
  consumer: consumerTuningSchema,
  topic: topicTuningShape.optional(),
  reasons: z
    .strictObject({
      producer: z.record(z.string(), z.string()).optional(),
      consumer: z.record(z.string(), z.string()).optional(),
      topic: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
})

export const producerOptionsSchema = z.strictObject({
  ...connectionShape,
  ...producerTuningShape,
  keySerializer: serializerLike.optional(),
  valueSerializer: serializerLike.optional(),
  partitioner: z
    .union([z.enum(['default', 'murmur2', 'sticky', 'round-robin']), z.custom<(...a: unknown[]) => number>((v) => typeof v === 'function')], {
      message: "must be 'default', 'murmur2', 'sticky', 'round-robin' or a function",
    })
    .optional(),
  transactionalId: z.string().min(1).optional(),
})

export const consumerOptionsSchema = z.strictObject({
  ...connectionShape,
  ...consumerTuningShape,
  groupId: z.string().min(1, 'must not be empty'),
  topics: z.array(z.union([z.string().min(1), z.instanceof(RegExp)])).min(1, 'needs at least one topic'),
  keyDeserializer: serializerLike.optional(),
  valueDeserializer: serializerLike.optional(),
})

export const pipelineOptionsSchema = z.strictObject({
  ...connectionShape,
  groupId: z.string().min(1),
  from: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  to: z.string().min(1).optional(),
  transactionalIdPrefix: z.string().min(1).optional(),
  keyDeserializer: serializerLike.optional(),
  valueDeserializer: serializerLike.optional(),
  keySerializer: serializerLike.optional(),
  valueSerializer: serializerLike.optional(),
  producer: z.strictObject(producerTuningShape).optional(),
  consumer: z.strictObject(consumerTuningShape).optional(),
  transform: z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'must be a function' }),
})
