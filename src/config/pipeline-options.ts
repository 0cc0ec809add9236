/**
 * Which producer and consumer options a pipeline applies, and why the others cannot apply. Every tuning option
 * is in exactly one of the two tables (a unit test checks it against the schemas), so an option the pipeline
 * would ignore is rejected with its reason instead of being accepted silently.
 */
import type { ConfigProblem } from '../errors.js'
import type { ConsumerTuning, ProducerTuning } from './types.js'

type ProducerKey = keyof ProducerTuning
type ConsumerKey = keyof ConsumerTuning

/** Producer options the pipeline's producers use, with how. */
export const PIPELINE_PRODUCER_APPLIED: Readonly<Partial<Record<ProducerKey, string>>> = {
  acks: 'acks of each output request (transactions always use all)',
  compression: 'compression of the output batches',
  idempotent: 'idempotence of the output producers (always on with transactions)',
  maxInFlightRequests: 'in-flight requests of the output producers',
  retries: 'retries of the output producers',
  retryBackoffMs: 'back-off of output and transaction retries',
  retryBackoffMaxMs: 'cap of output and transaction back-off',
  requestTimeoutMs: 'timeout of every request',
  transactionTimeoutMs: 'transaction.timeout.ms of each input partition transaction',
  partitioner: 'chooses the partition of each output record (murmur2 of the key bytes, sticky for null keys, ...)',
  batchSize: "bytes per output batch, and the sticky partitioner's switch after batchSize bytes (KIP-794)",
  deliveryTimeoutMs: 'deadline of each output send inside its transaction (a failed send aborts the transaction, which is retried)',
  maxRequestSize: 'largest output request, checked before sending (RECORD_TOO_LARGE); raise it with the topic max.message.bytes for large outputs',
  keySerializer: 'serializes output keys',
  valueSerializer: 'serializes output values',
}

/** Producer options a pipeline cannot honour: outputs go out per chunk, inside its transaction. */
export const PIPELINE_PRODUCER_REJECTED: Readonly<Partial<Record<ProducerKey, string>>> = {
  lingerMs: 'the pipeline sends the outputs of each chunk of input records at once, in its transaction; size chunks with consumer.maxPollRecords instead',
  bufferMemory: 'outputs are not buffered across chunks: each chunk is sent and committed before the next one is read',
  maxBlockMs: 'outputs are not buffered across chunks, so nothing waits for buffer space',
}

/** Consumer options the pipeline's consumer uses, with how. */
export const PIPELINE_CONSUMER_APPLIED: Readonly<Partial<Record<ConsumerKey, string>>> = {
  autoOffsetReset: "where a partition without a committed offset starts ('earliest' or 'latest')",
  isolationLevel: 'which input records are read',
  heartbeatIntervalMs: 'heartbeats, also while a chunk is transformed',
  sessionTimeoutMs: 'session timeout of the member',
  maxPollIntervalMs: 'the longest one transform call may take; past it the member stops heartbeating and its partitions move',
  maxPollRecords: 'input records per chunk, and so per transaction',
  fetchMinBytes: 'fetch.min.bytes',
  fetchMaxBytes: 'fetch.max.bytes',
  fetchMaxWaitMs: 'fetch.max.wait.ms',
  maxPartitionFetchBytes: 'max.partition.fetch.bytes',
  partitionAssignors: 'how input partitions are spread over the members',
  partitionsConsumedConcurrently: 'input partitions processed at once',
  retry: 'per-record retries of the transform',
  deadLetterTopic: 'where a record goes whose transform still fails after its retries (in the same transaction as its offset)',
  keyDeserializer: 'deserializes input keys',
  valueDeserializer: 'deserializes input values',
}

/** Consumer options a pipeline cannot honour. */
export const PIPELINE_CONSUMER_REJECTED: Readonly<Partial<Record<ConsumerKey, string>>> = {
  ordering: 'a pipeline transforms each chunk of input records in partition order, inside one transaction per chunk',
  concurrency: "a pipeline has no out-of-order processing; partitionsConsumedConcurrently sets how many input partitions run at once",
  offsetMetadataMaxBytes: 'a pipeline commits plain offsets with its outputs; there is no offset map',
  commit:
    'a pipeline commits the input offsets of every chunk with its outputs (in the transaction with exactly-once, after the outputs are written otherwise); size chunks with consumer.maxPollRecords',
}

/** Problems for options the user gave that a pipeline would not apply (preset values are left alone). */
export function pipelineOptionProblems(producer: Record<string, unknown> | undefined, consumer: Record<string, unknown> | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const [key, why] of Object.entries(PIPELINE_PRODUCER_REJECTED)) {
    if (producer?.[key] !== undefined) problems.push({ option: `producer.${key}`, message: `not used by a pipeline: ${why}` })
  }
  for (const [key, why] of Object.entries(PIPELINE_CONSUMER_REJECTED)) {
    if (consumer?.[key] !== undefined) problems.push({ option: `consumer.${key}`, message: `not used by a pipeline: ${why}` })
  }
  if (consumer?.autoOffsetReset === 'none') {
    problems.push({ option: 'consumer.autoOffsetReset', message: "'none' is not supported by a pipeline yet; use 'earliest' or 'latest'" })
  }
  return problems
}
