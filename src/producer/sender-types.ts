/**
 * The contracts around the sender: what a queued record is, what the Kafka engine must answer and how a
 * failed request is classified. `sender.ts` holds the logic that drives them.
 */
import type { KafkatuneError } from '../errors.js'
import type { Batch, AccumulatedRecord } from './accumulator.js'
import type { RecordMetadata } from './types.js'
import type { WireHeaders } from './headers.js'
import type { PartitionSequences } from './sequences.js'

/** A serialized record waiting in the accumulator or in flight. */
export interface OutboundRecord extends AccumulatedRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: WireHeaders | undefined
  /** Create time, ms since the epoch, decimal string. */
  readonly timestamp: string
  /** When send() was called (ms). */
  readonly sendAt: number
  /** Settles the record's promise; later calls are ignored (returns false). */
  settle(md: RecordMetadata | null, err: KafkatuneError | null): boolean
}

export type OutboundBatch = Batch<OutboundRecord>

/** One partition's result in a produce response. */
export interface PartitionAck {
  topic: string
  partition: number
  baseOffset: string
  /** `'-1'` unless the topic uses LogAppendTime. */
  logAppendTime: string
}

/**
 * How a failed produce request is handled:
 * `retriable` back off and resend the same batches; `reset` recreate the kafkajs producer, then resend;
 * `isolate` non-retriable but the failing partition is unknown: resend each batch alone;
 * `fenced` this producer must never write again; `fatal` fail the batches.
 */
export type FailureKind = 'retriable' | 'reset' | 'isolate' | 'fenced' | 'fatal'

/** One partition's answer inside a failed request: an ack when `error` is null. */
export interface PartitionAckResult extends PartitionAck {
  error: Error | null
}

export interface SendFailure {
  kind: FailureKind
  error: KafkatuneError
  /**
   * The broker answered OUT_OF_ORDER_SEQUENCE_NUMBER: for a batch behind one still being retried this is
   * expected (it arrived before its predecessor) and it is retried; otherwise `kind` applies.
   */
  outOfOrder?: boolean
}

/** What the sender needs from the Kafka engine. */
export interface SenderEngine {
  /** Sends the batches (one per partition) in one request; resolves one ack per partition (none with acks 0). */
  produce(batches: readonly OutboundBatch[]): Promise<PartitionAck[]>
  classify(err: unknown, batches: readonly OutboundBatch[]): SendFailure
  /**
   * The per-partition answers of a failed request when they are known and may be used (producers without
   * idempotence): accepted partitions are acked, only the refused ones retried or failed. Null otherwise.
   */
  partitionResults?(err: unknown): PartitionAckResult[] | null
  /** Leader broker id of a partition, -1 when unknown. */
  leaderOf(topic: string, partition: number): number
  /** Metadata of these topics may be stale (leader moved, partitions added). */
  staleMetadata(topics: readonly string[]): void
  /**
   * Per-partition sequences of an idempotent producer, driven by the sender (assigned at drain, kept
   * across retries); absent or null without idempotence.
   */
  readonly sequences?: PartitionSequences | null
  /**
   * The last sequence the partition's leader holds for this producer's current id and epoch (DescribeProducers),
   * null when it holds none or could not be asked.
   */
  lastSequence?(topic: string, partition: number): Promise<number | null>
  /** Recreate the underlying producer (fatal sequence/epoch errors). */
  reset(reason: string): Promise<void>
}

export interface SenderOptions {
  maxInFlightRequests: number
  maxRequestSize: number
  retries: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  deliveryTimeoutMs: number
  /** acks 0: the broker sends no response, offsets are unknown (`'-1'`). */
  acksZero: boolean
}

export interface SenderHooks {
  onRequest?: (info: { broker: number; batches: number; records: number; bytes: number; durationMs: number; error?: KafkatuneError }) => void
  /** `records` of `batch` failed now (records settled earlier, e.g. expired in flight, are not counted again). */
  onFailure?: (batch: OutboundBatch, error: KafkatuneError, records: number) => void
  onReset?: (reason: string) => void
  /** The broker held `records` records of the partition that went unanswered (asked after OUT_OF_ORDER_SEQUENCE_NUMBER). */
  onSequenceResolved?: (topic: string, partition: number, records: number) => void
  onFenced?: (error: KafkatuneError) => void
}
