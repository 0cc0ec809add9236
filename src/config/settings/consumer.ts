/** The consumer's settings: one row per `ConsumerTuning` option, plus `groupId` and `topics`. */
import { z } from 'zod'
import type { CommitStrategyConfig, ConsumerTuning } from '../types.js'
import { JAVA_DEFAULT, nonNegInt, posInt, serializerLike, serializerName, type Setting, type TuningSettingsOf } from './setting.js'

const commitSchema = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('auto'), intervalMs: posInt.optional() }),
  z.strictObject({ strategy: z.literal('per-message') }),
  z.strictObject({ strategy: z.literal('batch'), size: posInt }),
  z.strictObject({ strategy: z.literal('interval'), intervalMs: posInt }),
  z.strictObject({ strategy: z.literal('hybrid'), size: posInt, intervalMs: posInt }),
])
const assignorName = z.enum(['range', 'round-robin', 'sticky', 'cooperative-sticky'])
const STRING_DESERIALIZER = 'UTF-8 strings, like StringDeserializer'

export const CONSUMER_SETTINGS = {
  commit: {
    schema: commitSchema,
    default: Object.freeze({ strategy: 'auto', intervalMs: 5_000 }) as CommitStrategyConfig,
    java: { properties: ['enable.auto.commit', 'auto.commit.interval.ms'] },
    reason: 'enable.auto.commit=true with auto.commit.interval.ms=5000, committing only processed offsets',
    pipeline: {
      rejected:
        'a pipeline commits the input offsets of every chunk with its outputs (in the transaction with exactly-once, after the outputs are written otherwise); size chunks with consumer.maxPollRecords',
    },
  },
  autoOffsetReset: {
    schema: z.enum(['earliest', 'latest', 'none']),
    default: 'latest',
    java: 'auto.offset.reset',
    reason: JAVA_DEFAULT,
    pipeline: { applied: "where a partition without a committed offset starts ('earliest' or 'latest')" },
  },
  isolationLevel: {
    schema: z.enum(['read_committed', 'read_uncommitted']),
    default: 'read_uncommitted',
    java: 'isolation.level',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'readUncommitted', convert: (level) => level === 'read_uncommitted' }],
    pipeline: { applied: 'which input records are read' },
  },
  heartbeatIntervalMs: {
    schema: posInt,
    default: 3_000,
    java: 'heartbeat.interval.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'heartbeatInterval' }],
    pipeline: { applied: 'heartbeats, also while a chunk is transformed' },
  },
  sessionTimeoutMs: {
    schema: posInt,
    default: 45_000,
    java: 'session.timeout.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'sessionTimeout' }],
    pipeline: { applied: 'session timeout of the member' },
  },
  maxPollIntervalMs: {
    schema: posInt,
    default: 300_000,
    java: 'max.poll.interval.ms',
    reason: JAVA_DEFAULT,
    // The Java client sends max.poll.interval.ms as the rebalance timeout of its JoinGroup.
    kafkajs: [{ to: 'consumer', option: 'rebalanceTimeout' }],
    pipeline: { applied: 'the longest one transform call may take; past it the member stops heartbeating and its partitions move' },
  },
  maxPollRecords: {
    schema: posInt,
    default: 500,
    java: 'max.poll.records',
    reason: JAVA_DEFAULT,
    pipeline: { applied: 'input records per chunk, and so per transaction' },
  },
  fetchMinBytes: {
    schema: posInt,
    default: 1,
    java: 'fetch.min.bytes',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'minBytes' }],
    pipeline: { applied: 'fetch.min.bytes' },
  },
  fetchMaxBytes: {
    schema: posInt,
    default: 52_428_800,
    java: 'fetch.max.bytes',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'maxBytes' }],
    pipeline: { applied: 'fetch.max.bytes' },
  },
  fetchMaxWaitMs: {
    schema: nonNegInt,
    default: 500,
    java: 'fetch.max.wait.ms',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'maxWaitTimeInMs' }],
    pipeline: { applied: 'fetch.max.wait.ms' },
  },
  maxPartitionFetchBytes: {
    schema: posInt,
    default: 1_048_576,
    java: 'max.partition.fetch.bytes',
    reason: JAVA_DEFAULT,
    kafkajs: [{ to: 'consumer', option: 'maxBytesPerPartition' }],
    pipeline: { applied: 'max.partition.fetch.bytes' },
  },
  partitionAssignors: {
    schema: z.array(assignorName).min(1),
    default: Object.freeze(['range']) as unknown as ConsumerTuning['partitionAssignors'] & object,
    java: 'partition.assignment.strategy',
    reason: "Java defaults to [range, cooperative-sticky]; kafkajs speaks only the eager protocol, so kafkatune defaults to 'range'",
    pipeline: { applied: 'how input partitions are spread over the members' },
  },
  partitionsConsumedConcurrently: {
    schema: posInt,
    default: 1,
    java: { none: 'a Java consumer is one thread; more partitions at once means more consumers' },
    reason: 'one partition at a time, like one Java consumer thread',
    pipeline: { applied: 'input partitions processed at once' },
  },
  ordering: {
    schema: z.enum(['partition', 'key', 'unordered']),
    default: 'partition',
    java: { property: 'ordering', of: 'ParallelConsumerOptions' },
    reason: "one record after another per partition, as a plain Java consumer (Parallel Consumer's KEY and UNORDERED are opt-in)",
    pipeline: { rejected: 'a pipeline transforms each chunk of input records in partition order, inside one transaction per chunk' },
  },
  concurrency: {
    schema: posInt.max(10_000),
    default: 16,
    java: { property: 'maxConcurrency', of: 'ParallelConsumerOptions' },
    reason: "Parallel Consumer's maxConcurrency default; used only with ordering 'key' or 'unordered'",
    pipeline: { rejected: 'a pipeline has no out-of-order processing; partitionsConsumedConcurrently sets how many input partitions run at once' },
  },
  offsetMetadataMaxBytes: {
    schema: z.number().int().min(64),
    default: 4_096,
    java: { property: 'offset.metadata.max.bytes', of: 'broker' },
    reason: "the broker's offset.metadata.max.bytes default: the offset map of ordering 'key'/'unordered' must fit in it",
    pipeline: { rejected: 'a pipeline commits plain offsets with its outputs; there is no offset map' },
  },
  keyDeserializer: {
    schema: serializerName,
    optionSchema: serializerLike,
    default: 'string',
    java: 'key.deserializer',
    reason: STRING_DESERIALIZER,
    pipeline: { applied: 'deserializes input keys' },
  },
  valueDeserializer: {
    schema: serializerName,
    optionSchema: serializerLike,
    default: 'string',
    java: 'value.deserializer',
    reason: STRING_DESERIALIZER,
    pipeline: { applied: 'deserializes input values' },
  },
  retry: {
    schema: z.strictObject({ attempts: nonNegInt, backoffMs: nonNegInt, maxBackoffMs: nonNegInt.optional() }),
    default: undefined,
    java: { none: "the Java client has no per-record retries (Spring Kafka's DefaultErrorHandler has them)" },
    reason: 'no per-message retries unless asked for: a failing record stops the consumer with a typed error',
    pipeline: { applied: 'per-record retries of the transform' },
  },
  deadLetterTopic: {
    schema: z.string().min(1),
    default: undefined,
    java: { none: "the Java client has no dead-letter topic (Spring Kafka's DeadLetterPublishingRecoverer has one)" },
    reason: 'no dead-letter topic unless one is named',
    pipeline: { applied: 'where a record goes whose transform still fails after its retries (in the same transaction as its offset)' },
  },
} satisfies TuningSettingsOf<ConsumerTuning>

/** The consumer's identity: not tuning, so never in a preset. */
export const GROUP_ID = {
  schema: z.string().min(1, 'must not be empty'),
  default: undefined,
  java: 'group.id',
  reason: 'required: there is no default',
  kafkajs: [{ to: 'consumer', option: 'groupId' }],
} satisfies Setting<string>

export const TOPICS = {
  schema: z.array(z.union([z.string().min(1), z.instanceof(RegExp)])).min(1, 'needs at least one topic'),
  default: undefined,
  java: { none: 'topics are the argument of KafkaConsumer.subscribe(), not a property' },
  reason: 'required: there is no default',
} satisfies Setting<(string | RegExp)[]>
