/**
 * `createPipeline`: consume-transform-produce on the consumer runtime. The `BatchLoop` drives the transform
 * (chunks of `maxPollRecords`, retries, dead letters, the `maxPollIntervalMs` guard, heartbeats); the
 * outputs of each input record are staged (`StagedOutputs`) and go out with the input offsets through the
 * `TransactionalCommitter` at every chunk end, on kafkatune producers from the `ProducerPool`.
 */
import type { Admin as KafkajsAdmin, Consumer as KafkajsConsumer } from 'kafkajs'
import { guardConnect } from '../client.js'
import { resolvePipelineConfig } from '../config/index.js'
import type { PipelineSettings } from '../config/index.js'
import type { PipelineOptions } from '../config/options.js'
import type { ConsumerSettings, ProducerSettings } from '../config/resolved.js'
import { NO_GENERATION } from '../consumer/assignors/index.js'
import type { StickyMemory, TopicPartitions } from '../consumer/assignors/index.js'
import { BatchLoop } from '../consumer/batch-loop.js'
import type { BatchLoopHost, FetchedBatch } from '../consumer/batch-loop.js'
import { ConsumerLiveness } from '../consumer/liveness.js'
import type { ConsumerHealthOptions } from '../consumer/liveness.js'
import { ConsumerMetricsRecorder } from '../consumer/metrics.js'
import { OffsetTracker, partitionKey } from '../consumer/offsets.js'
import type { RunHandlers } from '../consumer/types.js'
import { KafkatuneError } from '../errors.js'
import { clientLogger } from '../logging/fields.js'
import type { Health } from '../observability/health.js'
import { createKafkajsConsumer, toFetchedBatch } from '../kafkajs/consumer-client.js'
import { kafkaError } from '../kafkajs/errors.js'
import { generationOf } from '../kafkajs/group-generation.js'
import { deferred, within } from '../util/async.js'
import { ChunkCommits } from './chunk-commits.js'
import { createTransformStep, deadLetterOutput } from './outputs.js'
import { ProducerPool } from './producer-pool.js'
import { StagedOutputs } from './staged.js'
import { TransactionalCommitter } from './transactional-committer.js'
import type { CommitterMetrics } from './transactional-committer.js'
import { carryTrace, tracing } from './tracing.js'
import { recordDeadLetter } from '../observability/tracing-consumer.js'
import { Listeners } from '../util/listeners.js'
import { observeFetchResponses, observeFetchedPartitions } from '../kafkajs/fetch-decoder.js'
import { withMetricsSources } from '../observability/metrics-source.js'
import { CommittedOffsetsReader } from '../consumer/committed-reader.js'
import { seedLag } from '../observability/metrics-lag.js'

/** A running consume-transform-produce loop. */
export interface Pipeline {
  /** Joins the group and starts processing; resolves once running (like kafkajs `consumer.run`). */
  run(): Promise<void>
  /**
   * Resolves after `stop()`; rejects with the error that stopped the pipeline (a transform failing for good).
   * When nobody called `stopped()`, that error is thrown as an uncaught exception instead, as a Node emitter
   * does with an unheard 'error': a pipeline that stopped must not look healthy.
   */
  stopped(): Promise<void>
  /** Finishes the transaction in flight, leaves the group and disconnects. */
  stop(): Promise<void>
  /** Counters since start. */
  metrics(): PipelineMetrics
  /**
   * Liveness and readiness for `/livez` and `/readyz`, as `consumer.health()`: not live when stopped by an
   * error, not fetching within `pollTtlMs`, or a transform call running longer than `consumeTtlMs`; not ready
   * besides when not running, stopping (`state: stopping` while `stop()` runs, `state: stopped` once it resolved),
   * joining or rebalancing.
   */
  health(options?: ConsumerHealthOptions): Health
  /** Listens for a pipeline event; returns the function that unsubscribes. */
  on<E extends keyof PipelineEvents>(event: E, listener: (payload: PipelineEvents[E]) => void): () => void
}

/** Events a pipeline emits (namespaced as the producer's `producer.error` and the consumer's `consumer.error`). */
export interface PipelineEvents {
  /** This member joined the group with this assignment. */
  'pipeline.partitions-assigned': TopicPartitions
  /**
   * The pipeline stopped because of this error (a transform failing for good, a fatal Kafka answer). With no
   * listener and nobody awaiting `stopped()`, it is thrown as an uncaught exception.
   */
  'pipeline.error': KafkatuneError
}

/** What a pipeline has done so far. */
export interface PipelineMetrics extends CommitterMetrics {
  /** Transform calls retried (consumer `retry` policy). */
  transformRetries: number
  /** Input records written to the dead-letter topic. */
  deadLettered: number
  /** Transform calls that outlived `maxPollIntervalMs` (not committed; read again by the partition's next owner). */
  maxPollIntervalExceeded: number
  /**
   * Producers open now: with exactly-once one per input partition this member wrote for and still owns (a
   * partition's producer closes when a rebalance moves it away); otherwise 1 once the shared producer is open.
   */
  openProducers: number
}

/** How long `stop()` waits for the transform in flight. */
const STOP_WAIT_MS = 30_000

/**
 * Consume-transform-produce. With `'exactly-once'` (the default) every input partition gets its own
 * transactional producer (`<prefix>-<topic>-<partition>`, stable across restarts): outputs and the
 * input offsets commit in one transaction, and a new owner of the partition fences the old one,
 * since kafkajs cannot send the group metadata that KIP-447 fencing needs.
 * @example
 * const p = createPipeline({ brokers, groupId: 'copy', from: 'in', to: 'out', transactionalIdPrefix: 'copy',
 *   transform: async (msg) => ({ key: msg.key, value: msg.value?.toUpperCase() ?? '' }) })
 */
export function createPipeline<KIn = string, VIn = string, KOut = string, VOut = string>(options: PipelineOptions<KIn, VIn, KOut, VOut>): Pipeline {
  const settings: PipelineSettings = resolvePipelineConfig(options as unknown as PipelineOptions<unknown, unknown, unknown, unknown>)
  const cs = settings.consumer as ConsumerSettings<KIn, VIn>
  const ps = settings.producer as ProducerSettings<KOut, VOut>
  const log = clientLogger(cs.logger, 'pipeline', { clientId: cs.clientId, groupId: cs.groupId })
  const metrics: PipelineMetrics = { inputRecords: 0, outputRecords: 0, transactionsCommitted: 0, transactionsAborted: 0, fencedProducers: 0, transactionRetries: 0, transformRetries: 0, deadLettered: 0, maxPollIntervalExceeded: 0, openProducers: 0 }
  // The consumer side's Java-named metrics (records-consumed, lag, fetch latency, ...) for registerMetrics() and OpenTelemetry.
  const loopMetrics = new ConsumerMetricsRecorder(Date.now, cs.clientId, cs.groupId)
  const tracker = new OffsetTracker()
  const staged = new StagedOutputs<KOut, VOut>()
  const pool = new ProducerPool<KOut, VOut>(ps, settings.exactlyOnce ? settings.transactionalIdPrefix : null, cs.groupId)
  const chunks = new ChunkCommits(cs.maxPollRecords)
  /** Partitions being read again (or whose progress a rebalance voided): their batch stops, nothing of them is committed. */
  const rewound = new Set<string>()
  /** Partitions whose batch is in the loop now. */
  const inLoop = new Set<string>()
  /** The partitions of this member's last assignment. */
  let assigned = new Set<string>()
  let kconsumer: KafkajsConsumer | null = null
  let admin: Promise<KafkajsAdmin> | null = null
  let adminOf: (() => KafkajsAdmin) | null = null
  /** Committed offsets and high watermarks for the lag of each new assignment (the consumer's own reader). */
  let lagReader: CommittedOffsetsReader | null = null
  let stickyMemory: StickyMemory | null = null
  let stopping = false
  /** stop() completed: the pipeline is closed for good. */
  let closed = false
  let failure: KafkatuneError | null = null
  let observed = false
  const events = new Listeners<PipelineEvents>((err, event) => log.warn({ err, event }, 'a pipeline event listener threw'))
  const stopped = deferred()
  stopped.promise.catch(() => undefined)

  const rewind = (topic: string, partition: number, offset: string): void => {
    rewound.add(partitionKey(topic, partition))
    try {
      kconsumer?.seek({ topic, partition, offset })
    } catch (err) {
      // After a revocation the partition is not ours: its next owner starts from the committed offset.
      log.debug({ err, topic, partition, offset }, 'rewind skipped')
    }
  }

  /** The group's committed offset of a partition; rejects when it cannot be read. */
  const committedOffset = async (topic: string, partition: number): Promise<string | undefined> => {
    if (admin === null) {
      if (adminOf === null) throw new KafkatuneError('NOT_CONNECTED', 'pipeline not running')
      const a = adminOf()
      const connecting = a.connect().then(() => a)
      admin = connecting
      connecting.catch(() => {
        if (admin === connecting) admin = null
      })
    }
    const res = await (await admin).fetchOffsets({ groupId: cs.groupId, topics: [topic] })
    const offset = res[0]?.partitions.find((p) => p.partition === partition)?.offset
    return offset === undefined || offset === '-1' ? undefined : offset
  }

  const committer = new TransactionalCommitter<KOut, VOut>({
    tracker,
    staged,
    pool,
    groupId: cs.groupId,
    clientId: cs.clientId,
    exactlyOnce: settings.exactlyOnce,
    retryBackoffMs: ps.retryBackoffMs,
    retryBackoffMaxMs: ps.retryBackoffMaxMs,
    metrics,
    log,
    host: {
      committing: () => failure === null,
      stopping: () => stopping,
      rewinding: (topic, partition) => rewound.has(partitionKey(topic, partition)),
      rewind,
      committedOffset,
      fail: (err) => fail(err),
    },
    fallback: async (offsets) => {
      if (kconsumer === null) throw new KafkatuneError('NOT_CONNECTED', 'pipeline not running')
      await kconsumer.commitOffsets(offsets)
    },
  })

  const step = createTransformStep<KIn, VIn, KOut, VOut>({ transform: options.transform, to: options.to, keySerializer: ps.keySerializer, valueSerializer: ps.valueSerializer })
  const handlers: RunHandlers<KIn, VIn> = {
    eachMessage: async (msg) => {
      const records = await step(msg)
      // Runs inside the input's process span (the batch loop's): the outputs continue its trace.
      const traced = tracing()
      if (traced) carryTrace(records)
      staged.stage(msg.topic, msg.partition, msg.offset, records, traced ? msg.headers : undefined)
    },
  }
  const host: BatchLoopHost<KIn, VIn> = {
    handlers: () => handlers,
    halted: () => stopping || failure !== null,
    failed: () => failure !== null,
    abandoned: () => false,
    fail: (err) => fail(err),
    deadLetter: async (raws, error, attempts) => {
      const topic = cs.deadLetterTopic as string
      for (const raw of raws) {
        // One more output of the chunk: with exactly-once it commits in the transaction of its input offset.
        staged.stage(raw.topic, raw.partition, raw.offset, [deadLetterOutput<KOut, VOut>(topic, raw, error, cs.groupId, attempts)])
        log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, deadLetterTopic: topic, err: error }, 'record sent to the dead-letter topic')
      }
      metrics.deadLettered += raws.length
      recordDeadLetter(topic, raws.length, error)
    },
    emitExceeded: (event) => {
      // This member stops heartbeating and is about to lose its partitions: what it transformed and did not
      // commit is void; should it stay a member, each partition is read again from its first uncommitted record.
      for (const p of staged.partitions()) rewind(p.topic, p.partition, p.first)
      if (staged.first(event.topic, event.partition) === undefined) rewind(event.topic, event.partition, event.offset)
      staged.clear()
    },
  }
  const loop = new BatchLoop<KIn, VIn>(cs, tracker, committer, chunks, loopMetrics, log, host)
  const liveness = new ConsumerLiveness(cs, {
    state: () => (failure !== null ? 'failed' : closed ? 'stopped' : stopping ? 'stopping' : kconsumer !== null ? 'running' : 'created'),
    failure: () => failure,
    oldestCallStartedAt: () => loop.oldestCallStartedAt(),
  })

  const runBatch = async (batch: FetchedBatch): Promise<void> => {
    const key = partitionKey(batch.topic, batch.partition)
    // A batch fetched for an earlier assignment: the partition is another member's now (and its producer closed).
    if (!assigned.has(key)) return
    // A new batch after a rewind starts at the rewound position: stale progress of the partition goes.
    if (rewound.delete(key)) {
      tracker.forget(batch.topic, batch.partition)
      staged.forget(batch.topic, batch.partition)
    }
    chunks.batch(key, batch.records.length)
    inLoop.add(key)
    try {
      await loop.run({ ...batch, isStale: () => batch.isStale() || rewound.has(key) })
    } catch (err) {
      if (stopping || failure !== null) return
      // A rebalance or a lost member: kafkajs rejoins. The pipeline itself goes on.
      log.debug({ err, topic: batch.topic, partition: batch.partition }, 'batch interrupted; kafkajs rejoins or retries')
      throw err
    } finally {
      inLoop.delete(key)
    }
  }

  const joined = (memberId: string, assignment: TopicPartitions): void => {
    stickyMemory = { generation: generationOf(memberId) ?? NO_GENERATION, assignment }
    // kafkajs' protocol is eager: every partition was revoked and is read again from its committed offset, so
    // uncommitted progress is void (and a batch of the old generation still running commits nothing).
    for (const p of tracker.positions()) rewound.add(partitionKey(p.topic, p.partition))
    for (const p of staged.partitions()) rewound.add(partitionKey(p.topic, p.partition))
    for (const key of inLoop) rewound.add(key)
    assigned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => partitionKey(topic, p))))
    const owned = (topic: string, partition: number) => assigned.has(partitionKey(topic, partition))
    // Partitions moved to another member: their progress is the new owner's, and their producers close once
    // the transaction in flight on them (if any) is over. Without exactly-once the pool has no per-partition producers.
    const revoked = pool.partitions().filter((p) => !owned(p.topic, p.partition))
    for (const p of revoked) rewound.add(partitionKey(p.topic, p.partition))
    for (const p of [...tracker.positions(), ...staged.partitions()]) {
      if (owned(p.topic, p.partition)) continue
      tracker.forget(p.topic, p.partition)
      staged.forget(p.topic, p.partition)
    }
    if (revoked.length > 0) {
      log.debug({ partitions: revoked }, 'closing the producers of revoked partitions')
      committer.release(revoked, owned).catch((err: unknown) => log.warn({ err }, 'closing the producers of revoked partitions failed'))
    }
    // A partition may come back after another member committed more of it: each producer checks first.
    committer.recheckAll()
    log.info({ memberId, assignment }, 'joined the group')
    events.emit('pipeline.partitions-assigned', assignment)
  }

  const shutdown = async (): Promise<void> => {
    stopping = true
    if (!(await within(loop.idle(), STOP_WAIT_MS))) log.warn('stop(): a transform is still running; its records stay uncommitted')
    if (failure === null) await committer.commitPending().catch((err: unknown) => log.warn({ err }, 'stop(): final commit failed'))
    if (kconsumer !== null) await kconsumer.disconnect().catch(() => undefined)
    // Transactions still in flight (of revoked partitions too) end before their producers close.
    await committer.idle()
    await pool.closeAll()
    loopMetrics.stop()
    pool.metrics.stop()
    await lagReader?.close().catch(() => undefined)
    const a = admin
    admin = null
    if (a !== null) await a.then((x) => x.disconnect()).catch(() => undefined)
  }

  function fail(err: unknown): void {
    if (failure !== null) return
    failure = err instanceof KafkatuneError ? err : kafkaError(err, 'pipeline stopped')
    const reason = failure
    log.error({ err: reason, ...reason.details }, `pipeline stopping: ${reason.message}`)
    const report = () => {
      stopped.reject(reason)
      events.emit('pipeline.error', reason)
      // As Node's emitters do with an unheard 'error': a pipeline nobody watches must not look healthy.
      if (!observed && events.count('pipeline.error') === 0) {
        setImmediate(() => {
          throw reason
        })
      }
    }
    setImmediate(() => void shutdown().then(report, report))
  }

  return withMetricsSources<Pipeline>({
    async run() {
      if (kconsumer !== null) throw new KafkatuneError('CLOSED', 'pipeline.run() was already called')
      const parts = createKafkajsConsumer(cs as ConsumerSettings<unknown, unknown>, () => stickyMemory, (fields) => {
        const topic = String(fields.topic)
        const partition = Number(fields.partition)
        rewound.add(partitionKey(topic, partition))
        log.warn({ topic, partition, autoOffsetReset: cs.autoOffsetReset }, 'offset out of range: reset to the autoOffsetReset position')
      })
      const kc = parts.consumer
      kconsumer = kc
      adminOf = () => parts.kafka.admin()
      const reader = new CommittedOffsetsReader(parts.kafka, cs.groupId)
      lagReader = reader
      kc.on(kc.events.GROUP_JOIN, ({ payload }) => {
        loopMetrics.joined(payload.duration)
        reader.clear()
        loopMetrics.lagTracker.assign(payload.memberAssignment as TopicPartitions)
        const seedAdmin = { fetchTopicOffsets: async (topic: string) => (await reader.admin()).fetchTopicOffsets(topic) }
        void seedLag(loopMetrics.lagTracker, seedAdmin, (topic) => reader.topic(topic), payload.memberAssignment as TopicPartitions, cs.autoOffsetReset).catch(
          (err: unknown) => log.debug({ err }, 'lag of the new assignment not read; fetches fill it in'),
        )
        joined(payload.memberId, payload.memberAssignment as TopicPartitions)
      })
      kc.on(kc.events.FETCH, ({ payload }) => loopMetrics.fetched(payload.duration))
      observeFetchedPartitions(parts.kafka, (topic, partition, hw, bytes) => loopMetrics.fetchedPartition(topic, partition, hw, bytes))
      observeFetchResponses(parts.kafka, (bytes, throttleMs) => loopMetrics.fetchResponse(bytes, throttleMs))
      liveness.watch(kc)
      liveness.started()
      await guardConnect(parts.kafka, () => kc.connect(), () => kc.disconnect())
      loopMetrics.start()
      pool.metrics.start()
      await kc.subscribe({ topics: [...cs.topics], fromBeginning: cs.autoOffsetReset === 'earliest' })
      await kc.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: cs.partitionsConsumedConcurrently,
        eachBatch: (payload) => {
          loopMetrics.delivered(payload.batch.topic, payload.batch.messages.length)
          return runBatch(toFetchedBatch(payload))
        },
      })
      kc.on(kc.events.CRASH, (e) => {
        // kafkajs restarts the consumer after retriable crashes (lost brokers, coordinator moves) by itself.
        if (!stopping && !e.payload.restart) fail(e.payload.error)
      })
    },
    stopped() {
      observed = true
      return stopped.promise
    },
    async stop() {
      await shutdown()
      closed = true
      if (failure === null) stopped.resolve()
    },
    metrics() {
      return {
        ...metrics,
        transactionRetries: metrics.transactionRetries + pool.retries(),
        transformRetries: loopMetrics.retries,
        maxPollIntervalExceeded: loopMetrics.maxPollIntervalExceeded,
        openProducers: pool.size,
      }
    },
    health: (options) => liveness.health(options),
    on: (event, listener) => events.on(event, listener),
  }, loopMetrics, pool.metrics)
}
