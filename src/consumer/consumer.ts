/**
 * The consumer's lifecycle: created -> connected -> running -> stopping -> stopped (or failed). The work is
 * in its parts: `BatchLoop` (records -> handlers -> offsets), `GroupCommitter`, `Membership` (joins and the
 * rebalance hooks), `checkStartPositions`, and the kafkajs side in `src/kafkajs/consumer-client.ts`.
 */
import { EventEmitter } from 'node:events'
import type { Admin as KafkajsAdmin } from 'kafkajs'
import { guardConnect } from '../client.js'
import { resolveConsumerConfig } from '../config/index.js'
import { clientLogger } from '../logging/fields.js'
import type { ConsumerOptions, ConsumerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { createKafkajsConsumer, toFetchedBatch } from '../kafkajs/consumer-client.js'
import { kafkaError } from '../kafkajs/errors.js'
import { observeFetchedPartitions } from '../kafkajs/fetch-decoder.js'
import { generationOf } from '../kafkajs/group-generation.js'
import { installRebalanceHooks, registerRejoinHooks, requestRejoin, unregisterRejoinHooks } from '../kafkajs/rebalance-hooks.js'
import { seedLag } from '../observability/metrics-lag.js'
import { withMetricsSources } from '../observability/metrics-source.js'
import type { TopicPartitions } from './assignors/index.js'
import { BatchLoop } from './batch-loop.js'
import { createCommitStrategy } from './commit/index.js'
import { GroupCommitter } from './committer.js'
import { DeadLetterWriter } from './dead-letter.js'
import { recordDeadLetter, recordProcessFailure } from '../observability/tracing-consumer.js'
import type { RawRecord } from './dead-letter.js'
import { ConsumerLiveness } from './liveness.js'
import { Membership } from './membership.js'
import { ConsumerMetricsRecorder } from './metrics.js'
import { OffsetTracker, partitionKey } from './offsets.js'
import { CompletionTracker } from './parallel/completion.js'
import { ParallelLoop } from './parallel/parallel-loop.js'
import type { CommittedOffset } from './parallel/parallel-loop.js'
import { checkStartPositions } from './start-positions.js'
import type { Consumer, ConsumerEvents, MaxPollIntervalExceededEvent, RunHandlers } from './types.js'
import { deferred, sleep, within } from '../util/async.js'
import { backoffMs } from '../util/backoff.js'

export type * from './types.js'

type State = 'created' | 'connected' | 'running' | 'stopping' | 'failed'

/** How long a join waits for the lag of its new partitions (one ListOffsets + OffsetFetch) before fetching starts. */
const LAG_SEED_WAIT_MS = 2_000

/**
 * Creates a consumer: typed deserialized records, commit strategies, heartbeats while handlers run,
 * max.poll.interval.ms, retries and a dead-letter topic, on top of kafkajs.
 * @example
 * const consumer = createConsumer({ brokers: ['127.0.0.1:9092'], groupId: 'billing', topics: ['orders'], commit: { strategy: 'batch', size: 100 } })
 * await consumer.connect()
 * await consumer.run({ eachMessage: async (msg) => console.log(msg.value) })
 */
export function createConsumer<K = string, V = string>(options: ConsumerOptions<K, V>): Consumer<K, V> {
  return createConsumerFromSettings(resolveConsumerConfig(options))
}

/** Creates a consumer from already resolved settings (used by the pipeline and tests). */
export function createConsumerFromSettings<K, V>(settings: ConsumerSettings<K, V>): Consumer<K, V> {
  const log = clientLogger(settings.logger, 'consumer', { clientId: settings.clientId, groupId: settings.groupId })
  const emitter = new EventEmitter()
  const metrics = new ConsumerMetricsRecorder(Date.now, settings.clientId, settings.groupId)
  let lagSeeded: Promise<void> = Promise.resolve()
  const tracker = new OffsetTracker()
  const strategy = createCommitStrategy(settings.commit)
  let state: State = 'created'
  let fatal: KafkatuneError | null = null
  let handlers: RunHandlers<K, V> | null = null
  /** stop()'s deadline passed: whatever finishes from now on is not recorded or committed. */
  let abandoned = false
  /** Someone will hear about a fatal error (called `stopped()`). */
  let observed = false
  let stopPromise: Promise<void> | null = null
  let stopped = deferred()
  let timer: NodeJS.Timeout | null = null
  let dlqWriter: DeadLetterWriter | null = null
  let memberId: string | null = null

  const { kafka, consumer: kconsumer } = createKafkajsConsumer(settings as ConsumerSettings<unknown, unknown>, () => membership.stickyMemory, onOutOfRange)
  // ordering 'key'/'unordered' tracks completions out of order; 'partition' keeps the in-order path untouched.
  const completion = settings.ordering === 'partition' ? null : new CompletionTracker(settings.offsetMetadataMaxBytes)
  observeFetchedPartitions(kafka, (topic, partition, hw, bytes) => metrics.fetchedPartition(topic, partition, hw, bytes))
  const committer = new GroupCommitter(completion ?? tracker, strategy, metrics, log, (offsets) => kconsumer.commitOffsets(offsets))
  const loopHost = {
    handlers: () => handlers,
    halted: () => fatal !== null || state === 'stopping' || abandoned,
    failed: () => fatal !== null,
    abandoned: () => abandoned,
    fail,
    deadLetter,
    emitExceeded: (event: MaxPollIntervalExceededEvent) => emitter.emit('max-poll-interval-exceeded', event),
    restore,
    pause: (topic: string, partition: number) => kconsumer.pause([{ topic, partitions: [partition] }]),
    resume: (topic: string, partition: number) => {
      // A partition the application paused stays paused; its resume() lets it go once back-pressure did too.
      if (userPaused.has(partitionKey(topic, partition))) return
      try {
        kconsumer.resume([{ topic, partitions: [partition] }])
      } catch (err) {
        // kafkajs refuses before its first run(); the pause state it would clear does not exist yet.
        log.debug({ err, topic, partition }, 'resume after back-pressure refused by kafkajs')
      }
    },
    requestRejoin: () => rejoin(),
  }
  /** A record outlived maxPollIntervalMs with ordering 'key'/'unordered': leave the group and join again. */
  function rejoin(): boolean {
    return memberId !== null && state === 'running' && requestRejoin(memberId)
  }
  /** Partitions paused with `consumer.pause()` (back-pressure pauses and resumes leave them alone). */
  const userPaused = new Set<string>()
  const parallel = completion === null ? null : new ParallelLoop<K, V>(settings, completion, committer, strategy, metrics, log, loopHost)
  const loop = parallel ?? new BatchLoop<K, V>(settings, tracker, committer, strategy, metrics, log, loopHost)
  metrics.parallel = parallel
  const liveness = new ConsumerLiveness(settings, { state: () => state, failure: () => fatal, oldestCallStartedAt: () => loop.oldestCallStartedAt() })
  liveness.watch(kconsumer)
  /** Committed offsets (with their offset maps) read back per topic, once per join. */
  const restored = new Map<string, Promise<Map<number, CommittedOffset>>>()
  let offsetsAdmin: Promise<KafkajsAdmin> | null = null
  const membership = new Membership(tracker, committer, metrics, log, {
    handlers: () => handlers,
    running: () => state === 'running',
    idle: () => (parallel !== null ? parallel.drain() : loop.idle()),
    seek: (pos) => kconsumer.seek(pos),
    emit: (event, payload) => emitter.emit(event, payload),
    generationOf,
  }, settings.maxPollIntervalMs)
  const awaitedHooks = installRebalanceHooks()

  kconsumer.on(kconsumer.events.GROUP_JOIN, ({ payload }) => {
    if (memberId !== null && memberId !== payload.memberId) unregisterRejoinHooks(memberId)
    memberId = payload.memberId
    // kafkajs' protocol is eager: every partition was revoked (and its completions committed) before this join.
    restored.clear()
    parallel?.reset()
    metrics.joined(payload.duration)
    membership.joined(payload.memberId, payload.memberAssignment as TopicPartitions)
    lagSeeded = seedLag(metrics.lagTracker, { fetchTopicOffsets: async (topic) => (await offsetsAdminClient()).fetchTopicOffsets(topic) }, committedOffsets, membership.assignment, settings.autoOffsetReset).catch(
      (err: unknown) => log.debug({ err }, 'lag of the new assignment not read; fetches fill it in'),
    )
    registerRejoinHooks(payload.memberId, {
      beforeRejoin: () => {
        liveness.rebalancing()
        return membership.beforeRejoin()
      },
      // Lag counts from assignment: the new partitions' high watermarks and positions are read before fetching starts.
      afterJoin: async () => {
        await within(lagSeeded, LAG_SEED_WAIT_MS)
        await membership.afterJoin()
      },
    })
  })
  kconsumer.on(kconsumer.events.FETCH, ({ payload }) => metrics.fetched(payload.duration))
  kconsumer.on(kconsumer.events.REBALANCING, () => {
    // Without the awaited hooks: a commit sent before kafkajs' JoinGroup on the same connection lands in the old generation.
    if (!awaitedHooks && state === 'running') committer.commitSoon()
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
    if (payload.restart || state === 'stopping') return
    fail(kafkaError(payload.error, 'kafkajs consumer crashed'))
  })

  function onOutOfRange(fields: Record<string, unknown>): void {
    const topic = String(fields.topic)
    const partition = Number(fields.partition)
    if (settings.autoOffsetReset === 'none') {
      fail(new KafkatuneError('OFFSET_OUT_OF_RANGE', `Offset out of range on ${topic}[${partition}] and autoOffsetReset is 'none'`, { retriable: false, details: { topic, partition } }))
    } else {
      // kafkajs moved to the offset autoOffsetReset names; progress tracked for the old position is void.
      tracker.forget(topic, partition)
      parallel?.restart(topic, partition)
      log.warn({ topic, partition, autoOffsetReset: settings.autoOffsetReset }, 'offset out of range: reset to the autoOffsetReset position')
    }
  }

  /** The group's committed offsets of `topic`, read once per join (for lag and offset maps). */
  function committedOffsets(topic: string): Promise<Map<number, CommittedOffset>> {
    let byPartition = restored.get(topic)
    if (byPartition === undefined) {
      byPartition = readCommitted(topic)
      restored.set(topic, byPartition)
      byPartition.catch(() => restored.delete(topic))
    }
    return byPartition
  }

  async function restore(topic: string, partition: number): Promise<CommittedOffset> {
    return (await committedOffsets(topic)).get(partition) ?? { offset: null, metadata: null }
  }

  function offsetsAdminClient(): Promise<KafkajsAdmin> {
    if (offsetsAdmin === null) {
      const admin = kafka.admin()
      offsetsAdmin = admin.connect().then(() => admin)
      offsetsAdmin.catch(() => (offsetsAdmin = null))
    }
    return offsetsAdmin
  }

  async function readCommitted(topic: string): Promise<Map<number, CommittedOffset>> {
    const admin = await offsetsAdminClient()
    const [result] = await admin.fetchOffsets({ groupId: settings.groupId, topics: [topic] })
    const out = new Map<number, CommittedOffset>()
    for (const p of result?.partitions ?? []) {
      out.set(p.partition, { offset: p.offset === '-1' ? null : p.offset, metadata: (p as { metadata?: string | null }).metadata ?? null })
    }
    return out
  }

  async function deadLetter(raws: RawRecord[], error: unknown, attempts: number): Promise<void> {
    if (dlqWriter === null || settings.deadLetterTopic === null) throw new KafkatuneError('NOT_CONNECTED', 'dead-letter producer not connected')
    await dlqWriter.write(raws, error, attempts)
    metrics.deadLettered += raws.length
    recordDeadLetter(settings.deadLetterTopic, raws.length, error)
    for (const raw of raws) {
      log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, deadLetterTopic: settings.deadLetterTopic, err: error }, 'record sent to the dead-letter topic')
    }
  }

  /** Stops the consumer because of `err`: nothing more is processed, the failed record stays uncommitted. */
  function fail(err: KafkatuneError): void {
    if (fatal !== null) return
    fatal = err
    recordProcessFailure(err)
    log.error({ err, ...err.details }, `consumer stopping: ${err.message}`)
    setImmediate(() => {
      void stop().finally(() => {
        state = 'failed'
        stopped.reject(err)
        if (emitter.listenerCount('error') > 0) emitter.emit('error', err)
        else if (!observed) {
          // As Node's emitters do with an unheard 'error': the process must not go on looking healthy.
          setImmediate(() => {
            throw err
          })
        }
      })
    })
  }

  async function connect(): Promise<void> {
    if (state !== 'created') return
    try {
      await guardConnect(kafka, () => kconsumer.connect(), () => kconsumer.disconnect())
      if (settings.deadLetterTopic !== null) {
        dlqWriter = new DeadLetterWriter(settings as ConsumerSettings<unknown, unknown>, settings.deadLetterTopic)
        await dlqWriter.connect()
      }
    } catch (err) {
      throw kafkaError(err, `consumer of group ${settings.groupId} cannot connect to ${settings.brokers.join(',')}`)
    }
    state = 'connected'
    metrics.start()
  }

  async function startPositions(): Promise<void> {
    // The coordinator may still be loading (or __consumer_offsets being created): retry what Kafka calls retriable.
    for (let attempt = 1; ; attempt++) {
      const admin = kafka.admin()
      try {
        await admin.connect()
        await checkStartPositions(admin, settings as ConsumerSettings<unknown, unknown>, log)
        return
      } catch (err) {
        if (err instanceof KafkatuneError) throw err
        if ((err as { retriable?: unknown }).retriable === true && attempt < 20) {
          await sleep(backoffMs(attempt, { baseMs: 100, maxMs: 1000 }))
          continue
        }
        throw kafkaError(err, `Cannot read committed offsets of group ${settings.groupId}`)
      } finally {
        await admin.disconnect().catch(() => undefined)
      }
    }
  }

  async function run(h: RunHandlers<K, V>): Promise<void> {
    if (state === 'created') throw new KafkatuneError('NOT_CONNECTED', 'call consumer.connect() before run()')
    if (state !== 'connected' && state !== 'failed') throw new KafkatuneError('CONFIG_INVALID', 'consumer.run() was already called', { retriable: false })
    if ((h.eachMessage === undefined) === (h.eachBatch === undefined)) {
      throw new KafkatuneError('CONFIG_INVALID', 'consumer.run() takes exactly one of eachMessage or eachBatch', { retriable: false })
    }
    await startPositions()
    handlers = h
    restored.clear()
    parallel?.reset()
    fatal = null
    abandoned = false
    stopped = deferred()
    await kconsumer.subscribe({ topics: [...settings.topics], fromBeginning: settings.autoOffsetReset === 'earliest' })
    state = 'running'
    liveness.started()
    if (strategy.intervalMs !== null) {
      timer = setInterval(() => {
        if (state === 'running' && fatal === null) committer.commitSoon()
      }, strategy.intervalMs)
      timer.unref()
    }
    try {
      await kconsumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => {
          metrics.delivered(payload.batch.topic, payload.batch.messages.length)
          return loop.run(toFetchedBatch(payload))
        },
      })
    } catch (err) {
      state = 'connected'
      handlers = null
      if (timer !== null) clearInterval(timer)
      timer = null
      throw kafkaError(err, 'Cannot start consuming')
    }
  }

  function stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (stopPromise !== null) return stopPromise
    if (state !== 'running') return Promise.resolve()
    state = 'stopping'
    const timeoutMs = options.timeoutMs ?? Math.min(settings.maxPollIntervalMs, 30_000)
    const deadline = Date.now() + timeoutMs
    stopPromise = (async () => {
      if (timer !== null) clearInterval(timer)
      timer = null
      if (!(await within(loop.idle(), timeoutMs))) {
        // Past the deadline nothing the handlers finish is recorded or committed, and they are told so.
        abandoned = true
        loop.abortAll(new KafkatuneError('CLOSED', `consumer.stop(): handlers still running after ${timeoutMs} ms`, { retriable: false }))
        log.warn({ timeoutMs, inFlight: loop.active }, 'stop(): handlers still running after the deadline; committing what finished before it')
      }
      const commit = committer.commitPending().catch((err: unknown) => log.warn({ err }, 'stop(): final commit failed'))
      if (!(await within(commit, deadline - Date.now()))) log.warn({ timeoutMs }, 'stop(): the final commit did not finish in time')
      if (fatal === null && !abandoned) await within(membership.beforeRejoin(), deadline - Date.now())
      // kafkajs leaves the group once the running handler returns; stop() does not wait past its deadline for that.
      if (!(await within(kconsumer.stop(), deadline - Date.now()))) log.warn('stop(): a handler is still running; the group is left when it returns')
      if (memberId !== null) unregisterRejoinHooks(memberId)
      committer.useDirect(null)
      parallel?.stopGuard()
      const admin = offsetsAdmin
      offsetsAdmin = null
      if (admin !== null) await within(admin.then((a) => a.disconnect()), Math.max(0, deadline - Date.now()))
      handlers = null
      if (fatal === null) {
        state = 'connected'
        stopped.resolve()
      }
    })().finally(() => {
      stopPromise = null
    })
    return stopPromise
  }

  async function disconnect(): Promise<void> {
    await stop()
    await kconsumer.disconnect()
    if (dlqWriter !== null) await dlqWriter.disconnect()
    dlqWriter = null
    state = 'created'
    metrics.stop()
  }

  const partitionList = (partitions: TopicPartitions) => Object.entries(partitions).map(([topic, ps]) => ({ topic, partitions: ps }))

  return withMetricsSources<Consumer<K, V>>({
    connect,
    run,
    stop,
    disconnect,
    stopped: () => {
      observed = true
      return stopped.promise
    },
    pause: (partitions) => {
      kconsumer.pause(partitionList(partitions))
      for (const [topic, ps] of Object.entries(partitions)) for (const p of ps) userPaused.add(partitionKey(topic, p))
    },
    resume: (partitions) => {
      for (const [topic, ps] of Object.entries(partitions)) for (const p of ps) userPaused.delete(partitionKey(topic, p))
      // Partitions held by back-pressure resume when their pending records drained, not before.
      const free = Object.entries(partitions).map(([topic, ps]) => ({ topic, partitions: ps.filter((p) => parallel?.holds(topic, p) !== true) }))
      kconsumer.resume(free.filter((tp) => tp.partitions.length > 0))
    },
    seek: (position) => {
      tracker.forget(position.topic, position.partition)
      parallel?.restart(position.topic, position.partition)
      kconsumer.seek(position)
    },
    metrics: () => metrics.snapshot(),
    health: (options) => liveness.health(options),
    on<E extends keyof ConsumerEvents>(event: E, listener: ConsumerEvents[E]) {
      emitter.on(event, listener as (...args: unknown[]) => void)
      return () => {
        emitter.off(event, listener as (...args: unknown[]) => void)
      }
    },
  }, metrics)
}
