import { EventEmitter } from 'node:events'
import type { Admin, Consumer as KafkajsConsumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, LogEntry, Producer as KafkajsProducer } from 'kafkajs'
import { createKafkaClient, guardConnect } from '../client.js'
import { registerCodecs } from '../codecs/index.js'
import { deserializeOrThrow } from '../serde/invoke.js'
import { logLevel as KafkajsLogLevel } from 'kafkajs'
import { kafkajsLogCreator, resolveConsumerConfig, toKafkajsClientConfig, toKafkajsConsumerConfig } from '../config/index.js'
import type { ConsumerOptions, ConsumerSettings } from '../config/index.js'
import { KafkatuneError, isKafkatuneError } from '../errors.js'
import type { ConsumedMessage } from '../messages.js'
import { createAssigners } from './assignors/index.js'
import type { StickyMemory, TopicPartitions } from './assignors/index.js'
import { createCommitStrategy } from './commit/index.js'
import type { CommitStrategy } from './commit/index.js'
import { deadLetterRecord } from './dead-letter.js'
import type { RawRecord } from './dead-letter.js'
import { HandlerGuard } from './guards.js'
import { ConsumerMetricsRecorder } from './metrics.js'
import type { ConsumerMetrics } from './metrics.js'
import { OffsetTracker, partitionKey } from './offsets.js'
import type { TopicPartitionOffset } from './offsets.js'
import { runWithRetries } from './retry.js'

/** Handles one record; resolve when done, throw to fail it (it is retried, dead-lettered or stops the consumer). */
export type EachMessageHandler<K, V> = (message: ConsumedMessage<K, V>) => Promise<void>
/** Handles up to `maxPollRecords` records of one partition, in offset order; the batch succeeds or fails as a whole. */
export type EachBatchHandler<K, V> = (messages: ConsumedMessage<K, V>[]) => Promise<void>

/** What `consumer.run()` takes: exactly one of `eachMessage` or `eachBatch`. */
export type RunHandlers<K, V> =
  | { eachMessage: EachMessageHandler<K, V>; eachBatch?: undefined }
  | { eachBatch: EachBatchHandler<K, V>; eachMessage?: undefined }

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

/** Events a consumer emits. */
export interface ConsumerEvents {
  'max-poll-interval-exceeded': (event: MaxPollIntervalExceededEvent) => void
  'group-join': (event: GroupJoinEvent) => void
  /** The consumer stopped because of this error (a handler failed without a dead-letter topic, ...). */
  error: (error: KafkatuneError) => void
}

/** A kafkatune consumer; see `createConsumer`. */
export interface Consumer<K = string, V = string> {
  connect(): Promise<void>
  /** Subscribes and joins the group; resolves once consuming started, rejects with e.g. `NO_COMMITTED_OFFSET`. */
  run(handlers: RunHandlers<K, V>): Promise<void>
  /** Finishes in-flight handlers (up to `timeoutMs`), commits what they finished, leaves the group. */
  stop(options?: { timeoutMs?: number }): Promise<void>
  /** Stops, then closes every connection. */
  disconnect(): Promise<void>
  /** Resolves when the consumer stopped through `stop()`, rejects with the error that stopped it otherwise. */
  stopped(): Promise<void>
  metrics(): ConsumerMetrics
  on<E extends keyof ConsumerEvents>(event: E, listener: ConsumerEvents[E]): () => void
}

const OUT_OF_RANGE_LOG = 'Offset out of range'

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
  const log = settings.logger.child({ component: 'kafkatune.consumer', groupId: settings.groupId })
  const emitter = new EventEmitter()
  const metrics = new ConsumerMetricsRecorder()
  const tracker = new OffsetTracker()
  const strategy: CommitStrategy = createCommitStrategy(settings.commit)
  let stickyMemory: StickyMemory | null = null
  let owned = new Set<string>()
  let joins = 0

  // kafkajs resets an out-of-range offset silently; its log line is the only trace, so watch for it.
  const baseLogCreator = kafkajsLogCreator(settings.logger)
  const logCreator = (level: number): ((entry: LogEntry) => void) => {
    const inner = baseLogCreator!(level)
    return (entry: LogEntry) => {
      if (typeof entry.log.message === 'string' && entry.log.message.startsWith(OUT_OF_RANGE_LOG)) onOutOfRange(entry.log)
      inner(entry)
    }
  }
  // kafkajs must emit at least its errors for the out-of-range watch to work; pino still filters what is written.
  const configured = toKafkajsClientConfig(settings).logLevel ?? KafkajsLogLevel.NOTHING
  const kafka: Kafka = createKafkaClient({
    ...settings,
    kafkajs: { logLevel: Math.max(configured, KafkajsLogLevel.ERROR), ...settings.kafkajs, logCreator },
  })
  const kconsumer: KafkajsConsumer = kafka.consumer({
    ...toKafkajsConsumerConfig(settings as ConsumerSettings, createAssigners(settings.partitionAssignors, () => stickyMemory)),
    // kafkajs would commit before every rejoin and after every batch; kafkatune's strategies own commits.
  })
  let dlqProducer: KafkajsProducer | null = null
  let connected = false
  let running = false
  let stopping = false
  let fatal: KafkatuneError | null = null
  let stopPromise: Promise<void> | null = null
  let stoppedDeferred: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null
  let timer: NodeJS.Timeout | null = null
  let active = 0
  let idleWaiters: (() => void)[] = []
  let handlers: RunHandlers<K, V> | null = null

  const deferred = () => {
    let resolve!: () => void
    let reject!: (e: unknown) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.catch(() => {})
    return { promise, resolve, reject }
  }

  // ---- commits ------------------------------------------------------------------------------
  let commitChain: Promise<void> = Promise.resolve()
  type CommitFn = (offsets: TopicPartitionOffset[]) => Promise<void>
  // Background commits go straight to the group coordinator, one attempt each: kafkajs' commitOffsets()
  // retries through rebalances for many seconds, and a loop waiting on it could not rejoin meanwhile.
  let direct: EachBatchPayload['commitOffsetsIfNecessary'] | null = null
  const viaConsumer: CommitFn = (offsets) =>
    direct !== null ? toPayloadCommit(direct)(offsets) : kconsumer.commitOffsets(offsets)
  const viaPayload = (payload: EachBatchPayload): CommitFn => {
    direct = payload.commitOffsetsIfNecessary
    return toPayloadCommit(payload.commitOffsetsIfNecessary)
  }
  function toPayloadCommit(commitFn: EachBatchPayload['commitOffsetsIfNecessary']): CommitFn {
    return async (offsets) => {
      const byTopic = new Map<string, { partition: number; offset: string }[]>()
      for (const o of offsets) {
        const list = byTopic.get(o.topic) ?? []
        list.push({ partition: o.partition, offset: o.offset })
        byTopic.set(o.topic, list)
      }
      await commitFn({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) })
    }
  }

  /** Commits everything finished and not yet committed; commits never overlap. */
  function commitPending(commit: CommitFn, only?: ReadonlySet<string>): Promise<void> {
    const run = commitChain.then(async () => {
      const pending = tracker.pending().filter((o) => only === undefined || only.has(partitionKey(o.topic, o.partition)))
      if (pending.length === 0) return
      try {
        await commit(pending)
      } catch (err) {
        metrics.commitFailures++
        throw err
      }
      tracker.committed(pending)
      strategy.committed(Date.now())
      metrics.commits++
      log.debug({ offsets: pending }, 'committed offsets')
    })
    commitChain = run.catch(() => {})
    return run
  }

  function onOutOfRange(fields: Record<string, unknown>): void {
    const topic = String(fields.topic)
    const partition = Number(fields.partition)
    if (settings.autoOffsetReset === 'none') {
      fail(
        new KafkatuneError('OFFSET_OUT_OF_RANGE', `Offset out of range on ${topic}[${partition}] and autoOffsetReset is 'none'`, {
          retriable: false,
          details: { topic, partition },
        }),
      )
    } else {
      // kafkajs moved to the offset autoOffsetReset names; progress tracked for the old position is void.
      tracker.forget(topic, partition)
      log.warn({ topic, partition, autoOffsetReset: settings.autoOffsetReset }, 'offset out of range: reset to the autoOffsetReset position')
    }
  }

  // ---- decoding -----------------------------------------------------------------------------
  function rawOf(topic: string, partition: number, m: KafkaMessage): RawRecord {
    return { topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? {} }
  }

  function plainHeaders(h: IHeaders): Record<string, Buffer | undefined> {
    const out: Record<string, Buffer | undefined> = {}
    // Most records carry no headers: skip the entries() allocation for them.
    let any = false
    for (const _k in h) {
      any = true
      break
    }
    if (!any) return out
    for (const [k, v] of Object.entries(h)) {
      const last = Array.isArray(v) ? v[v.length - 1] : v
      out[k] = last === undefined ? undefined : Buffer.isBuffer(last) ? last : Buffer.from(last)
    }
    return out
  }

  /** Deserializes key and value; synchronous (no microtask per record) unless a deserializer is async. */
  function decode(raw: RawRecord): ConsumedMessage<K, V> | Promise<ConsumedMessage<K, V>> {
    const headers = plainHeaders(raw.headers)
    const where = { partition: raw.partition, offset: raw.offset }
    const key = raw.key === null ? null : deserializeOrThrow(settings.keyDeserializer, raw.key, { topic: raw.topic, part: 'key', headers }, where)
    const value = raw.value === null ? null : deserializeOrThrow(settings.valueDeserializer, raw.value, { topic: raw.topic, part: 'value', headers }, where)
    const build = (k: K | null, v: V | null): ConsumedMessage<K, V> => ({
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset,
      key: k,
      value: v,
      headers,
      timestamp: raw.timestamp,
    })
    if (key instanceof Promise || value instanceof Promise) return Promise.all([key, value]).then(([k, v]) => build(k, v))
    return build(key, value)
  }

  // ---- failure handling ---------------------------------------------------------------------
  async function deadLetter(raws: RawRecord[], error: unknown, attempts: number): Promise<void> {
    if (dlqProducer === null || settings.deadLetterTopic === null) throw new KafkatuneError('NOT_CONNECTED', 'dead-letter producer not connected')
    await dlqProducer.send({
      topic: settings.deadLetterTopic,
      acks: -1,
      messages: raws.map((raw) => deadLetterRecord(raw, error, settings.groupId, attempts)),
    })
    metrics.deadLettered += raws.length
    for (const raw of raws) {
      log.warn(
        { topic: raw.topic, partition: raw.partition, offset: raw.offset, deadLetterTopic: settings.deadLetterTopic, err: error },
        'record sent to the dead-letter topic',
      )
    }
  }

  /** Stops the consumer because of `err`: nothing more is processed, the failed record stays uncommitted. */
  function fail(err: KafkatuneError): void {
    if (fatal !== null) return
    fatal = err
    log.error({ err, ...err.details }, `consumer stopping: ${err.message}`)
    setImmediate(() => {
      void stop().finally(() => {
        stoppedDeferred ??= deferred()
        stoppedDeferred.reject(err)
        if (emitter.listenerCount('error') > 0) emitter.emit('error', err)
      })
    })
  }

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

  const isRebalanceError = (e: unknown): boolean => {
    const type = (e as { type?: unknown } | null)?.type
    return type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'UNKNOWN_MEMBER_ID'
  }

  // ---- the loop -------------------------------------------------------------------------------
  async function onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload
    const { topic, partition } = batch
    const key = partitionKey(topic, partition)
    if (fatal !== null || stopping || handlers === null || batch.messages.length === 0) return
    active++
    const commitInLoop = viaPayload(payload)
    let heartbeatError: unknown = null
    let current: RawRecord | null = null
    let completed = false
    const guard = new HandlerGuard({
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      maxPollIntervalMs: settings.maxPollIntervalMs,
      heartbeat: () => payload.heartbeat(),
      onHeartbeatError: (err) => {
        heartbeatError = err
      },
      onExceeded: (elapsedMs) => {
        metrics.maxPollIntervalExceeded++
        const event: MaxPollIntervalExceededEvent = {
          topic,
          partition,
          offset: current?.offset ?? '-1',
          elapsedMs,
          maxPollIntervalMs: settings.maxPollIntervalMs,
        }
        log.error(
          { ...event },
          `handler ran ${elapsedMs} ms, longer than maxPollIntervalMs (${settings.maxPollIntervalMs}): heartbeats stop so the partitions move to another member; the record stays uncommitted`,
        )
        // This member is about to be evicted; what it finished may be redone elsewhere, so its progress is void.
        tracker.retain(new Set())
        emitter.emit('max-poll-interval-exceeded', event)
      },
    })
    guard.start()
    const h = handlers
    const lastMessageOffset = batch.messages[batch.messages.length - 1]!.offset
    let lastFinished: string | null = null
    let unflushed = 0
    const finish = (offset: string, count = 1) => {
      tracker.finished(topic, partition, offset)
      lastFinished = offset
      unflushed += count
    }
    // kafkajs' fetch position and the metrics move once per chunk (and before leaving), not per record.
    const flush = () => {
      if (lastFinished === null || unflushed === 0) return
      payload.resolveOffset(lastFinished)
      metrics.finished(unflushed)
      metrics.lag(`${topic}/${partition}`, Number(BigInt(batch.highWatermark) - BigInt(lastFinished) - 1n))
      unflushed = 0
    }
    // per-message waits for its commit (its bound is the in-flight record); the others commit in the
    // background, in order, so the loop does not stall on a round trip every `size` records.
    const commitDue = async () => {
      if (strategy.name === 'per-message') await commitPending(commitInLoop)
      else commitPending(commitInLoop).catch((err: unknown) => log.debug({ err }, 'commit failed; the next one retries'))
    }
    const shouldBreak = () => fatal !== null || stopping || guard.exceeded || heartbeatError !== null || !payload.isRunning() || payload.isStale()

    /** Runs one handler call under the guard with retries; returns the outcome. */
    const attempt = (fn: () => Promise<void>) =>
      runWithRetries(
        async () => {
          guard.enter()
          try {
            await fn()
          } finally {
            metrics.handlerTime(guard.leave())
          }
        },
        settings.retry,
        {
          sleep,
          onRetry: (n, err) => {
            metrics.retries++
            log.info({ topic, partition, offset: current?.offset, attempt: n, err }, 'handler failed, retrying')
          },
          shouldStop: () => guard.exceeded || fatal !== null,
        },
      )

    /** A record (or batch) failed for good: dead-letter it or stop. Returns true when consumption may go on. */
    const giveUp = async (raws: RawRecord[], error: unknown, attempts: number): Promise<boolean> => {
      const first = raws[0]!
      const err = isKafkatuneError(error, 'DESERIALIZATION')
        ? error
        : new KafkatuneError('HANDLER_FAILED', `Handler failed on ${first.topic}[${first.partition}]@${first.offset} after ${attempts} attempt(s): ${error instanceof Error ? error.message : String(error)}`, {
            cause: error,
            retriable: false,
            details: { topic: first.topic, partition: first.partition, offset: first.offset, attempts, groupId: settings.groupId },
          })
      if (settings.deadLetterTopic === null) {
        fail(err)
        return false
      }
      try {
        await deadLetter(raws, err, attempts)
        return true
      } catch (dlqErr) {
        fail(
          new KafkatuneError('KAFKA', `Cannot write ${first.topic}[${first.partition}]@${first.offset} to the dead-letter topic ${settings.deadLetterTopic}`, {
            cause: dlqErr,
            details: { topic: first.topic, partition: first.partition, offset: first.offset },
          }),
        )
        return false
      }
    }

    try {
      outer: for (let start = 0; start < batch.messages.length; start += settings.maxPollRecords) {
        if (shouldBreak()) break
        const chunk = batch.messages.slice(start, start + settings.maxPollRecords).map((m) => rawOf(topic, partition, m))
        if (h.eachMessage !== undefined) {
          for (const raw of chunk) {
            if (shouldBreak()) break outer
            current = raw
            let msg: ConsumedMessage<K, V>
            try {
              const decoded = decode(raw)
              msg = decoded instanceof Promise ? await decoded : decoded
            } catch (err) {
              if (!(await giveUp([raw], err, 0))) break outer
              finish(raw.offset)
              if (strategy.processed(key, Date.now())) await commitDue()
              continue
            }
            const outcome = await attempt(() => h.eachMessage(msg))
            // A call that outlived max.poll.interval.ms is not committed: its partition may already be elsewhere.
            if (guard.exceeded) break outer
            if (!outcome.ok && !(await giveUp([raw], outcome.error, outcome.attempts))) break outer
            finish(raw.offset)
            if (strategy.processed(key, Date.now())) await commitDue()
          }
        } else {
          const good: { raw: RawRecord; msg: ConsumedMessage<K, V> }[] = []
          for (const raw of chunk) {
            current = raw
            try {
              const decoded = decode(raw)
              good.push({ raw, msg: decoded instanceof Promise ? await decoded : decoded })
            } catch (err) {
              if (!(await giveUp([raw], err, 0))) break outer
            }
          }
          current = chunk[0]!
          if (good.length > 0) {
            const outcome = await attempt(() => h.eachBatch(good.map((g) => g.msg)))
            if (guard.exceeded) break outer
            if (!outcome.ok && !(await giveUp(good.map((g) => g.raw), outcome.error, outcome.attempts))) break outer
          }
          finish(chunk[chunk.length - 1]!.offset, chunk.length)
          if (strategy.processed(key, Date.now(), chunk.length)) await commitDue()
        }
        flush()
        if (start + settings.maxPollRecords >= batch.messages.length) completed = true
        // Between chunks: a heartbeat, which is also where a rebalance shows up.
        if (heartbeatError === null && !guard.exceeded) {
          try {
            await payload.heartbeat()
          } catch (err) {
            heartbeatError = err
          }
        }
      }
      // Transaction markers after the last record are never handed out; count them as done so lag reaches 0
      // (kafkajs' resolveOffset already maps the last record to the batch's last offset).
      if (completed && batch.lastOffset() !== lastMessageOffset) {
        tracker.finished(topic, partition, batch.lastOffset())
        metrics.lag(`${topic}/${partition}`, Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset()) - 1n))
      }
    } finally {
      flush()
      guard.stop()
      active--
      if (active === 0) {
        const waiters = idleWaiters
        idleWaiters = []
        for (const w of waiters) w()
      }
    }

    if (guard.exceeded) {
      // This member stopped heartbeating; one heartbeat tells whether it was evicted (then kafkajs rejoins).
      await payload.heartbeat()
      return
    }
    if (fatal !== null) {
      await commitPending(commitInLoop).catch((err: unknown) => log.warn({ err }, 'commit of finished records failed while stopping'))
      return
    }
    if (heartbeatError !== null) {
      // Revoke: the generation is still valid while the group prepares the rebalance, so commit what finished.
      if ((heartbeatError as { type?: string }).type === 'REBALANCE_IN_PROGRESS') {
        await commitPending(commitInLoop).catch((err: unknown) => log.warn({ err }, 'commit on revoke failed'))
      }
      throw heartbeatError
    }
  }

  function idle(): Promise<void> {
    if (active === 0) return Promise.resolve()
    return new Promise((resolve) => idleWaiters.push(resolve))
  }

  // ---- group membership -----------------------------------------------------------------------
  kconsumer.on(kconsumer.events.GROUP_JOIN, ({ payload }) => {
    joins++
    if (joins > 1) metrics.rebalances++
    const assignment = payload.memberAssignment as TopicPartitions
    stickyMemory = { generation: Date.now(), assignment }
    owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => partitionKey(t, p))))
    const keep = new Set(owned)
    // Progress on partitions that moved elsewhere belongs to the new owner now.
    const retainedPending = new Set(tracker.pending().map((o) => partitionKey(o.topic, o.partition)).filter((k) => keep.has(k)))
    tracker.retain(keep)
    // kafkajs restarts a kept partition from the committed offset, which may lag behind what this member
    // finished (the commit on revoke can race the join): continue exactly where processing stopped.
    for (const pos of tracker.positions()) {
      try {
        kconsumer.seek(pos)
      } catch (err) {
        log.debug({ err, ...pos }, 'seek after rejoin failed')
      }
    }
    metrics.retainLag(new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`))))
    if (retainedPending.size > 0 && running) {
      commitPending(viaConsumer, retainedPending).catch((err: unknown) => log.debug({ err }, 'commit after rejoin failed'))
    }
    log.info({ memberId: payload.memberId, assignment }, 'joined the group')
    emitter.emit('group-join', { memberId: payload.memberId, assignment } satisfies GroupJoinEvent)
  })
  kconsumer.on(kconsumer.events.REBALANCING, () => {
    // Sent before kafkajs' JoinGroup on the same coordinator connection, so it lands in the old generation.
    if (running && !stopping) commitPending(viaConsumer).catch((err: unknown) => log.debug({ err }, 'commit on rebalance failed'))
  })
  kconsumer.on(kconsumer.events.END_BATCH_PROCESS, ({ payload }) => {
    // Batches of only transaction markers or aborted records never reach the handler.
    if (payload.batchSize === 0 && owned.has(partitionKey(payload.topic, payload.partition))) {
      tracker.finished(payload.topic, payload.partition, payload.lastOffset)
      metrics.lag(`${payload.topic}/${payload.partition}`, Number(BigInt(payload.highWatermark) - BigInt(payload.lastOffset) - 1n))
    }
  })
  kconsumer.on(kconsumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopping) return
    fail(new KafkatuneError('KAFKA', `kafkajs consumer crashed: ${payload.error.message}`, { cause: payload.error }))
  })

  // ---- start position -------------------------------------------------------------------------
  async function subscribedTopics(admin: Admin): Promise<string[]> {
    const names = settings.topics.filter((t): t is string => typeof t === 'string')
    const patterns = settings.topics.filter((t): t is RegExp => t instanceof RegExp)
    if (patterns.length > 0) {
      const all = await admin.listTopics()
      for (const name of all) if (patterns.some((p) => p.test(name))) names.push(name)
    }
    return [...new Set(names)]
  }

  /** Checks committed offsets against autoOffsetReset before joining (kafkajs has no `none` and resets silently). */
  async function checkStartPositions(): Promise<void> {
    const admin = kafka.admin()
    await admin.connect()
    try {
      const topics = await subscribedTopics(admin)
      if (topics.length === 0) return
      const committed = await admin.fetchOffsets({ groupId: settings.groupId, topics })
      for (const { topic, partitions } of committed) {
        const missing = partitions.filter((p) => p.offset === '-1').map((p) => p.partition)
        if (missing.length > 0 && settings.autoOffsetReset === 'none') {
          throw new KafkatuneError(
            'NO_COMMITTED_OFFSET',
            `Group ${settings.groupId} has no committed offset for ${topic} partition(s) ${missing.join(', ')} and autoOffsetReset is 'none'; set autoOffsetReset to 'earliest' or 'latest', or commit offsets first`,
            { retriable: false, details: { topic, partitions: missing, groupId: settings.groupId } },
          )
        }
        const present = partitions.filter((p) => p.offset !== '-1')
        if (present.length === 0) continue
        const bounds = await admin.fetchTopicOffsets(topic)
        for (const p of present) {
          const b = bounds.find((x) => x.partition === p.partition)
          if (b === undefined) continue
          const off = BigInt(p.offset)
          if (off < BigInt(b.low) || off > BigInt(b.high)) {
            if (settings.autoOffsetReset === 'none') {
              throw new KafkatuneError(
                'OFFSET_OUT_OF_RANGE',
                `Committed offset ${p.offset} of ${topic}[${p.partition}] is outside [${b.low}, ${b.high}] and autoOffsetReset is 'none'`,
                { retriable: false, details: { topic, partition: p.partition, offset: p.offset, low: b.low, high: b.high } },
              )
            }
            log.warn({ topic, partition: p.partition, offset: p.offset, low: b.low, high: b.high }, `committed offset out of range: starting from ${settings.autoOffsetReset}`)
          }
        }
      }
    } finally {
      await admin.disconnect()
    }
  }

  // ---- lifecycle ----------------------------------------------------------------------------
  async function connect(): Promise<void> {
    if (connected) return
    // A compressed batch must never crash the consumer: snappy/lz4/zstd are registered before any fetch.
    registerCodecs()
    await guardConnect(kafka, () => kconsumer.connect(), () => kconsumer.disconnect())
    if (settings.deadLetterTopic !== null) {
      const dlq = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, retry: { retries: 10 } })
      dlqProducer = dlq
      await guardConnect(kafka, () => dlq.connect(), () => dlq.disconnect())
    }
    connected = true
  }

  async function run(h: RunHandlers<K, V>): Promise<void> {
    if (!connected) throw new KafkatuneError('NOT_CONNECTED', 'call consumer.connect() before run()')
    if (running) throw new KafkatuneError('CONFIG_INVALID', 'consumer.run() was already called', { retriable: false })
    if ((h.eachMessage === undefined) === (h.eachBatch === undefined)) {
      throw new KafkatuneError('CONFIG_INVALID', 'consumer.run() takes exactly one of eachMessage or eachBatch', { retriable: false })
    }
    // The coordinator may still be loading (or __consumer_offsets being created): retry what Kafka calls retriable.
    for (let attempt = 1; ; attempt++) {
      try {
        await checkStartPositions()
        break
      } catch (err) {
        if (err instanceof KafkatuneError) throw err
        if ((err as { retriable?: unknown }).retriable === true && attempt < 20) {
          await sleep(Math.min(100 * attempt, 1000))
          continue
        }
        throw new KafkatuneError('KAFKA', `Cannot read committed offsets of group ${settings.groupId}`, { cause: err })
      }
    }
    handlers = h
    fatal = null
    stopping = false
    stoppedDeferred = deferred()
    await kconsumer.subscribe({ topics: [...settings.topics], fromBeginning: settings.autoOffsetReset === 'earliest' })
    running = true
    if (strategy.intervalMs !== null) {
      timer = setInterval(() => {
        if (!stopping && fatal === null) {
          commitPending(viaConsumer).catch((err: unknown) => log.debug({ err }, 'background commit failed; the next one retries'))
        }
      }, strategy.intervalMs)
      timer.unref()
    }
    try {
      await kconsumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
        eachBatch: onBatch,
      })
    } catch (err) {
      running = false
      handlers = null
      if (timer !== null) clearInterval(timer)
      timer = null
      throw err instanceof KafkatuneError ? err : new KafkatuneError('KAFKA', `Cannot start consuming: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }

  function stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (stopPromise !== null) return stopPromise
    if (!running) return Promise.resolve()
    stopping = true
    const timeoutMs = options.timeoutMs ?? Math.min(settings.maxPollIntervalMs, 30_000)
    stopPromise = (async () => {
      if (timer !== null) clearInterval(timer)
      timer = null
      let timedOut = false
      // A cleared timer: a pending deadline must not keep the process alive after stop().
      let deadline: NodeJS.Timeout | undefined
      await Promise.race([
        idle(),
        new Promise<void>((resolve) => {
          deadline = setTimeout(() => {
            timedOut = true
            resolve()
          }, timeoutMs)
        }),
      ])
      clearTimeout(deadline)
      if (timedOut) log.warn({ timeoutMs, inFlight: active }, 'stop(): handlers still running after the deadline; committing what finished')
      try {
        await commitPending(viaConsumer)
      } catch (err) {
        log.warn({ err }, 'stop(): final commit failed')
      }
      // kafkajs waits for the running handler before it leaves the group; past the deadline stop() returns anyway
      // (the unfinished record stays uncommitted) and kafkajs leaves once the handler returns.
      const left = kconsumer.stop().then(() => true)
      if (timedOut) {
        if (!(await Promise.race([left, sleep(1000).then(() => false)]))) log.warn('stop(): a handler is still running; the group is left when it returns')
      } else {
        await left
      }
      direct = null
      running = false
      handlers = null
      if (fatal === null) {
        stoppedDeferred ??= deferred()
        stoppedDeferred.resolve()
      }
    })().finally(() => {
      stopPromise = null
    })
    return stopPromise
  }

  async function disconnect(): Promise<void> {
    await stop()
    await kconsumer.disconnect()
    if (dlqProducer !== null) await dlqProducer.disconnect()
    dlqProducer = null
    connected = false
  }

  return {
    connect,
    run,
    stop,
    disconnect,
    stopped: () => {
      stoppedDeferred ??= deferred()
      return stoppedDeferred.promise
    },
    metrics: () => metrics.snapshot(),
    on(event, listener) {
      emitter.on(event, listener as (...args: unknown[]) => void)
      return () => {
        emitter.off(event, listener as (...args: unknown[]) => void)
      }
    },
  }
}
