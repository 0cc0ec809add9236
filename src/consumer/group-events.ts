/**
 * What the consumer does on kafkajs's group and fetch events: a join (new member id, lag of the new
 * assignment, the awaited rebalance hooks), batches that never reach a handler, a crash, and an offset
 * out of range. The consumer's lifecycle stays in `consumer.ts`.
 */
import type { Consumer as KafkajsConsumer } from 'kafkajs'
import type { ConsumerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { kafkaError } from '../kafkajs/errors.js'
import { installRebalanceHooks, registerRejoinHooks, requestRejoin, unregisterRejoinHooks } from '../kafkajs/rebalance-hooks.js'
import type { Logger } from '../logging/types.js'
import { seedLag } from '../observability/metrics-lag.js'
import { within } from '../util/async.js'
import type { TopicPartitions } from './assignors/index.js'
import type { CommittedOffsetsReader } from './committed-reader.js'
import type { OffsetCommitter } from './committer.js'
import type { ConsumerLiveness } from './liveness.js'
import type { Membership } from './membership.js'
import type { ConsumerMetricsRecorder } from './metrics.js'
import type { OffsetTracker } from './offsets.js'
import type { ParallelLoop } from './parallel/parallel-loop.js'

/** How long a join waits for the lag of its new partitions (one ListOffsets + OffsetFetch) before fetching starts. */
const LAG_SEED_WAIT_MS = 2_000

export interface GroupEventsHost {
  readonly settings: ConsumerSettings<unknown, unknown>
  readonly log: Logger
  readonly metrics: ConsumerMetricsRecorder
  readonly tracker: OffsetTracker
  readonly committed: CommittedOffsetsReader
  readonly committer: OffsetCommitter & { commitSoon(): void }
  readonly membership: Membership
  readonly liveness: ConsumerLiveness
  readonly parallel: ParallelLoop<unknown, unknown> | null
  running(): boolean
  stopping(): boolean
  fail(err: KafkatuneError): void
}

/** The member's kafkajs events (see the file comment); `memberId` is the current member's id. */
export class GroupEvents {
  memberId: string | null = null
  #lagSeeded: Promise<void> = Promise.resolve()
  #awaitedHooks = false

  constructor(private readonly host: GroupEventsHost) {}

  /** Listens on `kconsumer` (once, right after it was created). */
  wire(kconsumer: KafkajsConsumer): void {
    const { metrics, tracker, membership, parallel, committer } = this.host
    this.#awaitedHooks = installRebalanceHooks()
    kconsumer.on(kconsumer.events.GROUP_JOIN, ({ payload }) => this.#joined(payload.memberId, payload.memberAssignment as TopicPartitions, payload.duration))
    kconsumer.on(kconsumer.events.FETCH, ({ payload }) => metrics.fetched(payload.duration))
    kconsumer.on(kconsumer.events.REBALANCING, () => {
      // Without the awaited hooks: a commit sent before kafkajs' JoinGroup on the same connection lands in the old generation.
      if (!this.#awaitedHooks && this.host.running()) committer.commitSoon()
    })
    kconsumer.on(kconsumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Batches of only transaction markers or aborted records never reach the handler.
      if (payload.batchSize === 0 && membership.owns(payload.topic, payload.partition)) {
        parallel?.passed(payload.topic, payload.partition, payload.lastOffset)
        tracker.finished(payload.topic, payload.partition, payload.lastOffset)
        metrics.position(payload.topic, payload.partition, Number(payload.lastOffset) + 1, Number(payload.highWatermark))
      }
    })
    kconsumer.on(kconsumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.host.stopping()) return
      this.host.fail(kafkaError(payload.error, 'kafkajs consumer crashed'))
    })
  }

  /** A record outlived maxPollIntervalMs with ordering 'key'/'unordered': leave the group and join again. */
  requestRejoin(): boolean {
    return this.memberId !== null && this.host.running() && requestRejoin(this.memberId)
  }

  /** The member left for good (stop): its rejoin hooks go. */
  left(): void {
    if (this.memberId !== null) unregisterRejoinHooks(this.memberId)
  }

  /** kafkajs found the position out of range (its log line): fail under 'none', else forget the old progress. */
  outOfRange(fields: Record<string, unknown>): void {
    const { settings, log } = this.host
    const topic = String(fields.topic)
    const partition = Number(fields.partition)
    if (settings.autoOffsetReset === 'none') {
      this.host.fail(new KafkatuneError('OFFSET_OUT_OF_RANGE', `Offset out of range on ${topic}[${partition}] and autoOffsetReset is 'none'`, { retriable: false, details: { topic, partition } }))
    } else {
      // kafkajs moved to the offset autoOffsetReset names; progress tracked for the old position is void.
      this.host.tracker.forget(topic, partition)
      this.host.parallel?.restart(topic, partition)
      log.warn({ topic, partition, autoOffsetReset: settings.autoOffsetReset }, 'offset out of range: reset to the autoOffsetReset position')
    }
  }

  #joined(memberId: string, assignment: TopicPartitions, durationMs: number): void {
    const { settings, log, metrics, committed, membership, parallel, liveness } = this.host
    if (this.memberId !== null && this.memberId !== memberId) unregisterRejoinHooks(this.memberId)
    this.memberId = memberId
    // kafkajs' protocol is eager: every partition was revoked (and its completions committed) before this join.
    committed.clear()
    parallel?.reset()
    metrics.joined(durationMs)
    membership.joined(memberId, assignment)
    const admin = { fetchTopicOffsets: async (topic: string) => (await committed.admin()).fetchTopicOffsets(topic) }
    this.#lagSeeded = seedLag(metrics.lagTracker, admin, (topic) => committed.topic(topic), membership.assignment, settings.autoOffsetReset).catch(
      (err: unknown) => log.debug({ err }, 'lag of the new assignment not read; fetches fill it in'),
    )
    registerRejoinHooks(memberId, {
      beforeRejoin: () => {
        liveness.rebalancing()
        return membership.beforeRejoin()
      },
      // Lag counts from assignment: the new partitions' high watermarks and positions are read before fetching starts.
      afterJoin: async () => {
        await within(this.#lagSeeded, LAG_SEED_WAIT_MS)
        await membership.afterJoin()
      },
    })
  }
}
