import type { ConsumerTuning, ProducerTuning } from './types.js'

/**
 * The Apache Kafka 4.x Java client defaults: what a setting is when neither a preset nor an option
 * gives it, so Kafka people meet the values they know.
 */
export const PRODUCER_DEFAULTS: Readonly<Required<ProducerTuning>> = Object.freeze({
  acks: 'all',
  lingerMs: 5,
  batchSize: 16_384,
  bufferMemory: 33_554_432,
  maxBlockMs: 60_000,
  compression: 'none',
  idempotent: true,
  maxInFlightRequests: 5,
  retries: 2_147_483_647,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  requestTimeoutMs: 30_000,
  deliveryTimeoutMs: 120_000,
  maxRequestSize: 1_048_576,
  transactionTimeoutMs: 60_000,
  partitioner: 'default',
  keySerializer: 'string',
  valueSerializer: 'string',
})

/** Consumer defaults; where kafkatune cannot match Java, the reason says why. */
export const CONSUMER_DEFAULTS: Readonly<
  Required<Omit<ConsumerTuning, 'retry' | 'deadLetterTopic'>> & Pick<ConsumerTuning, 'retry' | 'deadLetterTopic'>
> = Object.freeze({
  commit: Object.freeze({ strategy: 'auto', intervalMs: 5_000 }) as ConsumerTuning['commit'] & object,
  autoOffsetReset: 'latest',
  isolationLevel: 'read_uncommitted',
  heartbeatIntervalMs: 3_000,
  sessionTimeoutMs: 45_000,
  maxPollIntervalMs: 300_000,
  maxPollRecords: 500,
  fetchMinBytes: 1,
  fetchMaxBytes: 52_428_800,
  fetchMaxWaitMs: 500,
  maxPartitionFetchBytes: 1_048_576,
  partitionAssignors: Object.freeze(['range']) as unknown as ConsumerTuning['partitionAssignors'] & object,
  partitionsConsumedConcurrently: 1,
  ordering: 'partition',
  concurrency: 16,
  offsetMetadataMaxBytes: 4_096,
  keyDeserializer: 'string',
  valueDeserializer: 'string',
  retry: undefined,
  deadLetterTopic: undefined,
})

/** Why a default is what it is, where that is more than "the Java client's default". */
export const DEFAULT_REASONS: Readonly<Record<string, string>> = Object.freeze({
  partitionAssignors:
    "Java defaults to [range, cooperative-sticky]; kafkajs speaks only the eager protocol, so kafkatune defaults to 'range'",
  partitionsConsumedConcurrently: 'one partition at a time, like one Java consumer thread',
  ordering: "one record after another per partition, as a plain Java consumer (Parallel Consumer's KEY and UNORDERED are opt-in)",
  concurrency: "Parallel Consumer's maxConcurrency default; used only with ordering 'key' or 'unordered'",
  offsetMetadataMaxBytes: "the broker's offset.metadata.max.bytes default: the offset map of ordering 'key'/'unordered' must fit in it",
  keySerializer: 'UTF-8 strings, like StringSerializer',
  valueSerializer: 'UTF-8 strings, like StringSerializer',
  keyDeserializer: 'UTF-8 strings, like StringDeserializer',
  valueDeserializer: 'UTF-8 strings, like StringDeserializer',
  retry: 'no per-message retries unless asked for: a failing record stops the consumer with a typed error',
  deadLetterTopic: 'no dead-letter topic unless one is named',
  commit: 'enable.auto.commit=true with auto.commit.interval.ms=5000, committing only processed offsets',
})

/** The Java client property behind each option. */
export const JAVA_PROPERTIES: Readonly<Record<string, string | null>> = Object.freeze({
  // producer
  acks: 'acks',
  lingerMs: 'linger.ms',
  batchSize: 'batch.size',
  bufferMemory: 'buffer.memory',
  maxBlockMs: 'max.block.ms',
  compression: 'compression.type',
  idempotent: 'enable.idempotence',
  maxInFlightRequests: 'max.in.flight.requests.per.connection',
  retries: 'retries',
  retryBackoffMs: 'retry.backoff.ms',
  retryBackoffMaxMs: 'retry.backoff.max.ms',
  requestTimeoutMs: 'request.timeout.ms',
  deliveryTimeoutMs: 'delivery.timeout.ms',
  maxRequestSize: 'max.request.size',
  transactionalId: 'transactional.id',
  transactionTimeoutMs: 'transaction.timeout.ms',
  partitioner: 'partitioner.class',
  keySerializer: 'key.serializer',
  valueSerializer: 'value.serializer',
  // consumer
  groupId: 'group.id',
  topics: null,
  commit: 'enable.auto.commit / auto.commit.interval.ms',
  autoOffsetReset: 'auto.offset.reset',
  isolationLevel: 'isolation.level',
  heartbeatIntervalMs: 'heartbeat.interval.ms',
  sessionTimeoutMs: 'session.timeout.ms',
  maxPollIntervalMs: 'max.poll.interval.ms',
  maxPollRecords: 'max.poll.records',
  fetchMinBytes: 'fetch.min.bytes',
  fetchMaxBytes: 'fetch.max.bytes',
  fetchMaxWaitMs: 'fetch.max.wait.ms',
  maxPartitionFetchBytes: 'max.partition.fetch.bytes',
  partitionAssignors: 'partition.assignment.strategy',
  partitionsConsumedConcurrently: null,
  ordering: 'ParallelConsumerOptions.ordering',
  concurrency: 'ParallelConsumerOptions.maxConcurrency',
  offsetMetadataMaxBytes: 'offset.metadata.max.bytes (broker)',
  retry: null,
  deadLetterTopic: null,
  keyDeserializer: 'key.deserializer',
  valueDeserializer: 'value.deserializer',
  // connection
  brokers: 'bootstrap.servers',
  clientId: 'client.id',
})
