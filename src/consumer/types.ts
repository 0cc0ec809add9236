/** The consumer's public types: handlers, events and the `Consumer` object. */
import type { KafkatuneError } from '../errors.js'
import type { ConsumedMessage } from '../messages.js'
import type { TopicPartitions } from './assignors/index.js'
import type { Health } from '../observability/health.js'
import type { ConsumerHealthOptions } from './liveness.js'
import type { ConsumerMetrics } from './metrics.js'

/** What a handler call gets besides its records. */
export interface HandlerContext {
  /**
   * Aborted when the result of this call can no longer be committed: `stop()`'s timeout passed, or the call
   * outlived `maxPollIntervalMs` and the partition moves to another member. Pass it to `fetch()` and friends.
   */
  signal: AbortSignal
}
/** Handles one record; resolve when done, throw to fail it (it is retried, dead-lettered or stops the consumer). */
export type EachMessageHandler<K, V> = (message: ConsumedMessage<K, V>, context: HandlerContext) => Promise<void>
/** Handles up to `maxPollRecords` records of one partition, in offset order; the batch succeeds or fails as a whole. */
export type EachBatchHandler<K, V> = (messages: ConsumedMessage<K, V>[], context: HandlerContext) => Promise<void>

/**
 * Called with the partitions this member gives up, before it rejoins its group: every in-flight handler of
 * them has finished and what they finished is committed. Awaited (within the rebalance timeout,
 * `maxPollIntervalMs`): flush state that belongs to those partitions here.
 */
export type PartitionsRevokedHandler = (partitions: TopicPartitions) => Promise<void> | void
/** Called with the partitions this member owns after a (re)join, before their records are handed out. Awaited. */
export type PartitionsAssignedHandler = (partitions: TopicPartitions) => Promise<void> | void

/** Rebalance hooks of `run()`, as the Java client's ConsumerRebalanceListener. */
export interface RebalanceHandlers {
  onPartitionsAssigned?: PartitionsAssignedHandler
  onPartitionsRevoked?: PartitionsRevokedHandler
}

/** What `consumer.run()` takes: exactly one of `eachMessage` or `eachBatch`, and optional rebalance hooks. */
export type RunHandlers<K, V> = RebalanceHandlers &
  ({ eachMessage: EachMessageHandler<K, V>; eachBatch?: undefined } | { eachBatch: EachBatchHandler<K, V>; eachMessage?: undefined })

/** Emitted when a handler call outlived `maxPollIntervalMs` and the member gave up its partitions. */
export interface MaxPollIntervalExceededEvent {
  topic: string
  partition: number
  offset: string
  elapsedMs: number
  maxPollIntervalMs: number
}

/** Emitted after every group join with what this member now owns. */
export interface GroupJoinEvent {
  memberId: string
  assignment: TopicPartitions
}

/** The consumer's events under their short names (each is also emitted as `consumer.<name>`). */
export interface ConsumerEventMap {
  /** A handler call outlived `maxPollIntervalMs`: its record is given up (not committed) and the member rejoins. */
  'max-poll-interval-exceeded': (event: MaxPollIntervalExceededEvent) => void
  'group-join': (event: GroupJoinEvent) => void
  /** After `onPartitionsAssigned` ran (or at once without it). */
  'partitions-assigned': (partitions: TopicPartitions) => void
  /** After the revoked partitions' work was committed and `onPartitionsRevoked` ran. */
  'partitions-revoked': (partitions: TopicPartitions) => void
  /**
   * The consumer stopped because of this error (a handler failed without a dead-letter topic, ...). With no
   * listener for `error` or `consumer.error` and nobody awaiting `stopped()`, it is thrown as an uncaught exception.
   */
  error: (error: KafkatuneError) => void
}

/**
 * Events a consumer emits: `consumer.<name>` (the namespaced form producers and pipelines use too, as
 * `producer.error`, `pipeline.transaction`) and the short name, kept for existing code.
 */
export type ConsumerEvents = ConsumerEventMap & { [E in keyof ConsumerEventMap as `consumer.${E}`]: ConsumerEventMap[E] }

/** A kafkatune consumer; see `createConsumer`. */
export interface Consumer<K = string, V = string> {
  connect(): Promise<void>
  /** Subscribes and joins the group; resolves once consuming started, rejects with e.g. `NO_COMMITTED_OFFSET`. */
  run(handlers: RunHandlers<K, V>): Promise<void>
  /**
   * Finishes in-flight handlers, commits what they finished and leaves the group, all within `timeoutMs`
   * (default: the smaller of `maxPollIntervalMs` and 30 s). A handler still running then sees its
   * `signal` aborted and nothing it finishes later is committed.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>
  /** Stops, then closes every connection. */
  disconnect(): Promise<void>
  /**
   * Resolves when the consumer stopped through `stop()`, rejects with the error that stopped it otherwise.
   * A consumer that stops on an error nobody handles (no `error` listener and no `stopped()` caller) throws it
   * as an uncaught exception, as a Node emitter does: a service must not go on looking healthy.
   */
  stopped(): Promise<void>
  /** Stops fetching from these partitions (records already fetched are still handled); membership is kept. */
  pause(partitions: TopicPartitions): void
  /** Fetches from paused partitions again. */
  resume(partitions: TopicPartitions): void
  /** Reads `partition` from `offset` next; progress recorded for it is dropped (the next commit follows the new position). */
  seek(position: { topic: string; partition: number; offset: string }): void
  metrics(): ConsumerMetrics
  /**
   * Liveness and readiness for `/livez` and `/readyz`. Not live: stopped by an error, no fetch within
   * `pollTtlMs`, or a handler call running longer than `consumeTtlMs`. Not ready besides: not running,
   * stopping, joining or rebalancing. A member with no partitions (more members than partitions) is ready.
   * @example const { live, ready, reasons } = consumer.health()
   */
  health(options?: ConsumerHealthOptions): Health
  on<E extends keyof ConsumerEvents>(event: E, listener: ConsumerEvents[E]): () => void
}
