import type { KafkatuneError } from '../errors.js'
import type { Health } from '../observability/health.js'
import type { ProducerHealthOptions } from './health.js'

/** One record handed to `producer.send()`. */
export interface ProducerRecord<K = string, V = string> {
  topic: string
  /** Record key; `null`/absent keys are spread by the partitioner (sticky for `'default'`). */
  key?: K | null
  value: V
  /**
   * Record headers. An array value writes the header once per element, in order (a header name may
   * repeat in Kafka, e.g. when a dead-lettered record keeps the original's headers).
   */
  headers?: ProducerHeaders
  /** Explicit partition; wins over the partitioner. */
  partition?: number
  /** Create time in ms since the epoch (number or decimal string). @default Date.now() */
  timestamp?: number | string
}

/** Headers of a produced record; an array value repeats its header name once per element. */
export type ProducerHeaders = Record<string, Buffer | string | readonly (Buffer | string)[]>

/** Where an acknowledged record was written. */
export interface RecordMetadata {
  topic: string
  partition: number
  /** Offset of the record as a decimal string (`'-1'` with `acks: 0`). */
  offset: string
  /** Create time or log-append time, ms since the epoch, as a decimal string. */
  timestamp: string
}

/** A snapshot of what the producer did since it was created. */
export interface ProducerMetrics {
  /** Acknowledged records per second over the last measurement window (10 s). */
  recordsPerSecond: number
  /** Acknowledged uncompressed payload bytes per second over the last window (10 s). */
  bytesPerSecond: number
  /** Totals since creation. */
  recordsSent: number
  bytesSent: number
  requests: number
  /** Records and uncompressed bytes per partition batch (one partition's share of a produce request). */
  batchRecordsAvg: number
  batchRecordsMax: number
  batchBytesAvg: number
  batchBytesMax: number
  /** Encoded / uncompressed size of the record batches encoded so far (1 without compression); null before the first. */
  compressionRatio: number | null
  /** Produce request latency (dispatch to broker response), ms, from an HDR histogram of the last 10-20 s. */
  requestLatencyP50Ms: number
  requestLatencyP99Ms: number
  requestLatencyAvgMs: number
  requestLatencyMaxMs: number
  /** Record latency (send() call to ack), ms, from an HDR histogram of the last 10-20 s (two samples per batch: its oldest and newest record). */
  recordLatencyP50Ms: number
  recordLatencyP99Ms: number
  /** Time batches waited in the accumulator before they were sent (Java's record-queue-time), ms, last 10-20 s. */
  recordQueueTimeAvgMs: number
  recordQueueTimeMaxMs: number
  /** Bytes of records waiting or in flight, against `bufferMemory`. */
  bufferBytesInUse: number
  bufferMemory: number
  /** Total time send() calls waited for buffer space, ms. */
  bufferWaitMs: number
  /** Records waiting in the accumulator or in flight. */
  recordsInFlight: number
  /** Retried batches and transaction requests (after a transient answer), and resets of the kafkajs producer after fatal sequence errors. */
  retries: number
  /** Records in the retried batches (Java's record-retry-total). */
  recordRetries: number
  resets: number
  /** Failed records by error code. */
  errors: Partial<Record<KafkatuneError['code'], number>>
}

/** What a transaction callback gets: sends and offset commits that belong to the transaction. */
export interface Transaction<K = string, V = string> {
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata>
  /** Commits consumer offsets (the next offset to read) as part of the transaction. */
  sendOffsets(args: {
    consumerGroupId: string
    offsets: { topic: string; partition: number; offset: string | number }[]
  }): Promise<void>
}

/** Events a producer emits; `on()` returns a function that removes the listener. */
export interface ProducerEvents {
  /** A produce request finished. */
  'producer.request': { broker: number; batches: number; records: number; bytes: number; durationMs: number; error?: KafkatuneError }
  /** Records failed (also counted in `metrics().errors`); `partition` is -1 for a send() refused before it reached a batch (serializer, size, buffer). */
  'producer.error': { error: KafkatuneError; topic: string; partition: number; records: number }
  /** The kafkajs producer was recreated after a fatal sequence/epoch or transaction error. */
  'producer.reset': { reason: string }
}

/** The producer returned by `createProducer`. */
export interface Producer<K = string, V = string> {
  connect(): Promise<void>
  /** Queues one record; resolves when it is acknowledged (after linger/batching). */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata>
  /** Resolves when every record sent before the call is acknowledged or failed. */
  flush(): Promise<void>
  /**
   * Runs `fn` in a Kafka transaction: commits when it resolves, aborts when it throws. A producer runs one
   * transaction at a time; a second `transaction()` waits until the first has ended. So never await a
   * `transaction()` of the same producer inside `fn`: it would wait for itself (send with `tx.send`).
   */
  transaction<T>(fn: (tx: Transaction<K, V>) => Promise<T>): Promise<T>
  metrics(): ProducerMetrics
  /**
   * Liveness and readiness for `/livez` and `/readyz`. Not live: fenced (another producer took its
   * transactionalId) or disconnected. Not ready besides: not connected yet, the last produce request failed,
   * or the buffer is near full (`bufferReadyRatio` of `bufferMemory`) or blocking send().
   * @example const { live, ready, reasons } = producer.health()
   */
  health(options?: ProducerHealthOptions): Health
  /** Flushes, then closes the connections. */
  disconnect(): Promise<void>
  on<E extends keyof ProducerEvents>(event: E, listener: (payload: ProducerEvents[E]) => void): () => void
}
