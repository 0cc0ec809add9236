/**
 * The batch loop: one fetched batch of one partition -> chunks of `maxPollRecords` -> handler calls (with
 * retries, the dead-letter topic, the `maxPollIntervalMs` guard and heartbeats) -> finished offsets -> commits
 * as the commit strategy says. It knows nothing of kafkajs: a `FetchedBatch` is all it sees, so it is
 * unit-tested with fake batches.
 */
import type { IHeaders } from 'kafkajs'
import type { Logger } from '../logging/types.js'
import type { ConsumerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import type { ConsumedMessage } from '../messages.js'
import { processTracer } from '../observability/tracing-consumer.js'
import type { ProcessTracer } from '../observability/tracing-consumer.js'
import type { CommitStrategy } from './commit/index.js'
import type { CommitFn, OffsetCommitter } from './committer.js'
import type { RawRecord } from './dead-letter.js'
import { decodeRecord } from './decode.js'
import { HandlerGuard } from './guards.js'
import { LazyAbort } from './lazy-abort.js'
import type { ConsumerMetricsRecorder } from './metrics.js'
import { partitionKey } from './offsets.js'
import type { OffsetTracker } from './offsets.js'
import { handlerFailure, runWithRetries } from './retry.js'
import type { HandlerContext, MaxPollIntervalExceededEvent, RunHandlers } from './types.js'

/** One fetched record as the loop needs it. */
export interface FetchedRecord {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers?: IHeaders
}

/** One fetched batch of one partition, and the calls the loop makes back into the fetcher. */
export interface FetchedBatch {
  topic: string
  partition: number
  highWatermark: string
  records: readonly FetchedRecord[]
  /** Last offset of the batch, including control records after the last data record. */
  lastOffset(): string
  /** Moves the fetch position past `offset`. */
  resolveOffset(offset: string): void
  /** Sends one heartbeat; rejects when the group is rebalancing or this member was evicted. */
  heartbeat(): Promise<void>
  isRunning(): boolean
  isStale(): boolean
  /** Commits straight to the coordinator (one attempt), for commits made from the loop. */
  commit: CommitFn
}

/** What the loop asks of the consumer around it. */
export interface BatchLoopHost<K, V> {
  handlers(): RunHandlers<K, V> | null
  /** The consumer is stopping, stopped on an error, or past stop()'s deadline. */
  halted(): boolean
  /** The consumer stopped on an error. */
  failed(): boolean
  /** stop()'s deadline passed: results that arrive now are not recorded. */
  abandoned(): boolean
  fail(err: KafkatuneError): void
  /** Writes records to the dead-letter topic; rejects when it cannot. */
  deadLetter(raws: RawRecord[], error: unknown, attempts: number): Promise<void>
  emitExceeded(event: MaxPollIntervalExceededEvent): void
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Runs fetched batches through the handlers; one instance per consumer. */
export class BatchLoop<K, V> {
  #active = 0
  #idleWaiters: (() => void)[] = []
  readonly #inFlight = new Set<LazyAbort>()
  readonly #runs = new Set<BatchRun<K, V>>()

  constructor(
    private readonly settings: ConsumerSettings<K, V>,
    private readonly tracker: OffsetTracker,
    private readonly committer: OffsetCommitter,
    private readonly strategy: CommitStrategy,
    private readonly metrics: ConsumerMetricsRecorder,
    private readonly log: Logger,
    private readonly host: BatchLoopHost<K, V>,
  ) {}

  /** Batches being handled now. */
  get active(): number {
    return this.#active
  }

  /** Resolves when no batch is being handled. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Start of the oldest handler call running now (ms since the epoch), null when none runs: read by `health()`. */
  oldestCallStartedAt(): number | null {
    let oldest: number | null = null
    for (const run of this.#runs) {
      const started = run.guard.callStartedAt
      if (started !== null && (oldest === null || started < oldest)) oldest = started
    }
    return oldest
  }

  /** Aborts the signal of every running handler call. */
  abortAll(reason: KafkatuneError): void {
    for (const c of this.#inFlight) c.abort(reason)
  }

  /** Handles one batch; throws the heartbeat error of a rebalance (after committing what finished) so kafkajs rejoins. */
  async run(batch: FetchedBatch): Promise<void> {
    const h = this.host.handlers()
    if (this.host.halted() || h === null || batch.records.length === 0) return
    this.#active++
    const controller = new LazyAbort()
    this.#inFlight.add(controller)
    this.committer.useDirect(batch.commit)
    const run = new BatchRun(this, batch, h, controller)
    this.#runs.add(run)
    try {
      await run.chunks()
    } finally {
      if (!this.host.abandoned()) run.flush()
      run.guard.stop()
      this.#runs.delete(run)
      this.#inFlight.delete(controller)
      this.#active--
      if (this.#active === 0) {
        const waiters = this.#idleWaiters
        this.#idleWaiters = []
        for (const w of waiters) w()
      }
    }
    await run.after()
  }

  /** @internal */ get deps() {
    return { settings: this.settings, tracker: this.tracker, committer: this.committer, strategy: this.strategy, metrics: this.metrics, log: this.log, host: this.host }
  }
}

/** The state of one `BatchLoop.run` call. */
class BatchRun<K, V> {
  readonly guard: HandlerGuard
  readonly context: HandlerContext
  readonly key: string
  heartbeatError: unknown = null
  current: RawRecord | null = null
  completed = false
  lastFinished: string | null = null
  unflushed = 0
  readonly d: BatchLoop<K, V>['deps']
  /** Null while tracing is off: records are then handled without any span work. */
  readonly tracer: ProcessTracer | null

  constructor(
    loop: BatchLoop<K, V>,
    readonly batch: FetchedBatch,
    readonly h: RunHandlers<K, V>,
    controller: LazyAbort,
  ) {
    this.d = loop.deps
    this.key = partitionKey(batch.topic, batch.partition)
    this.context = {
      get signal() {
        return controller.signal
      },
    }
    const { settings, metrics, log, tracker, host } = this.d
    this.tracer = processTracer(settings)
    this.guard = new HandlerGuard({
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      maxPollIntervalMs: settings.maxPollIntervalMs,
      heartbeat: () => batch.heartbeat(),
      onHeartbeatError: (err) => {
        this.heartbeatError = err
      },
      onExceeded: (elapsedMs) => {
        metrics.maxPollIntervalExceeded++
        const event: MaxPollIntervalExceededEvent = { topic: batch.topic, partition: batch.partition, offset: this.current?.offset ?? '-1', elapsedMs, maxPollIntervalMs: settings.maxPollIntervalMs }
        log.error(
          { ...event },
          `handler ran ${elapsedMs} ms, longer than maxPollIntervalMs (${settings.maxPollIntervalMs}): heartbeats stop so the partitions move to another member; the record stays uncommitted`,
        )
        // This member is about to be evicted; what it finished may be redone elsewhere, so its progress is void.
        tracker.retain(new Set())
        controller.abort(new KafkatuneError('MAX_POLL_INTERVAL_EXCEEDED', `handler outlived maxPollIntervalMs at ${batch.topic}[${batch.partition}]@${event.offset}`, { retriable: false, details: { ...event } }))
        host.emitExceeded(event)
      },
    })
    this.guard.start()
  }

  raw(r: FetchedRecord): RawRecord {
    return { topic: this.batch.topic, partition: this.batch.partition, offset: r.offset, timestamp: r.timestamp, key: r.key ?? null, value: r.value ?? null, headers: r.headers ?? {} }
  }

  finish(offset: string, count = 1): void {
    this.d.tracker.finished(this.batch.topic, this.batch.partition, offset)
    this.lastFinished = offset
    this.unflushed += count
  }

  /** The fetch position and the metrics move once per chunk (and before leaving), not per record. */
  flush(): void {
    if (this.lastFinished === null || this.unflushed === 0) return
    this.batch.resolveOffset(this.lastFinished)
    this.d.metrics.finished(this.unflushed)
    this.d.metrics.position(this.batch.topic, this.batch.partition, Number(this.lastFinished) + 1, Number(this.batch.highWatermark))
    this.unflushed = 0
  }

  /** per-message waits for its commit (its bound is the in-flight record); the others commit in the background, in order. */
  async commitDue(): Promise<void> {
    if (this.d.strategy.name === 'per-message') await this.d.committer.commitPending(this.batch.commit)
    else this.d.committer.commitSoon(this.batch.commit)
  }

  shouldBreak(): boolean {
    return this.d.host.halted() || this.guard.exceeded || this.heartbeatError !== null || !this.batch.isRunning() || this.batch.isStale()
  }

  /** One handler call under the guard, with retries. */
  attempt(fn: () => Promise<void>) {
    const { settings, metrics, log, host } = this.d
    return runWithRetries(
      async () => {
        this.guard.enter()
        try {
          await fn()
        } finally {
          metrics.handlerTime(this.guard.leave())
        }
      },
      settings.retry,
      {
        sleep,
        onRetry: (n, err) => {
          metrics.retries++
          log.info({ topic: this.batch.topic, partition: this.batch.partition, offset: this.current?.offset, attempt: n, err }, 'handler failed, retrying')
        },
        shouldStop: () => this.guard.exceeded || host.failed(),
      },
    )
  }

  /** A record (or batch) failed for good: dead-letter it or stop. Returns true when consumption may go on. */
  async giveUp(raws: RawRecord[], error: unknown, attempts: number): Promise<boolean> {
    const { settings, host } = this.d
    const first = raws[0]!
    const err = handlerFailure(first, error, attempts, settings.groupId)
    if (settings.deadLetterTopic === null) {
      host.fail(err)
      return false
    }
    try {
      await host.deadLetter(raws, err, attempts)
      return true
    } catch (dlqErr) {
      host.fail(new KafkatuneError('KAFKA', `Cannot write ${first.topic}[${first.partition}]@${first.offset} to the dead-letter topic ${settings.deadLetterTopic}`, { cause: dlqErr, details: { topic: first.topic, partition: first.partition, offset: first.offset } }))
      return false
    }
  }

  decode(raw: RawRecord): ConsumedMessage<K, V> | Promise<ConsumedMessage<K, V>> {
    return decodeRecord(raw, this.d.settings.keyDeserializer, this.d.settings.valueDeserializer)
  }

  /** eachMessage over one chunk; false when the batch must stop here. */
  async eachMessage(chunk: RawRecord[]): Promise<boolean> {
    const handler = this.h.eachMessage!
    const tracer = this.tracer
    for (const raw of chunk) {
      if (this.shouldBreak()) return false
      this.current = raw
      const goOn = tracer === null ? await this.handleOne(handler, raw) : await tracer.record(raw, () => this.handleOne(handler, raw))
      if (!goOn) return false
      this.finish(raw.offset)
      if (this.d.strategy.processed(this.key, Date.now())) await this.commitDue()
    }
    return true
  }

  /** One record: decode, handler with retries, dead-letter topic; false when the batch must stop here. */
  async handleOne(handler: NonNullable<RunHandlers<K, V>['eachMessage']>, raw: RawRecord): Promise<boolean> {
    let msg: ConsumedMessage<K, V>
    try {
      const decoded = this.decode(raw)
      msg = decoded instanceof Promise ? await decoded : decoded
    } catch (err) {
      return this.giveUp([raw], err, 0)
    }
    const outcome = await this.attempt(() => handler(msg, this.context))
    // A call that outlived max.poll.interval.ms or stop()'s deadline is not committed.
    if (this.guard.exceeded || this.d.host.abandoned()) return false
    return outcome.ok || this.giveUp([raw], outcome.error, outcome.attempts)
  }

  /** eachBatch over one chunk; false when the batch must stop here. */
  async eachBatch(chunk: RawRecord[]): Promise<boolean> {
    const goOn = this.tracer === null ? await this.handleBatch(chunk) : await this.tracer.batch(chunk, () => this.handleBatch(chunk))
    if (!goOn) return false
    this.finish(chunk[chunk.length - 1]!.offset, chunk.length)
    if (this.d.strategy.processed(this.key, Date.now(), chunk.length)) await this.commitDue()
    return true
  }

  /** Decodes a chunk and hands it to eachBatch with retries; false when the batch must stop here. */
  async handleBatch(chunk: RawRecord[]): Promise<boolean> {
    const handler = this.h.eachBatch!
    // The records that decoded, and their messages (two lists, not a pair object per record).
    let raws = chunk
    const msgs: ConsumedMessage<K, V>[] = []
    for (let i = 0; i < chunk.length; i++) {
      const raw = chunk[i]!
      this.current = raw
      try {
        const decoded = this.decode(raw)
        msgs.push(decoded instanceof Promise ? await decoded : decoded)
      } catch (err) {
        if (raws === chunk) raws = chunk.slice(0, i)
        if (!(await this.giveUp([raw], err, 0))) return false
        continue
      }
      if (raws !== chunk) raws.push(raw)
    }
    this.current = chunk[0]!
    if (msgs.length > 0) {
      // Each attempt gets its own list: a handler that empties it and throws must not shrink the retry.
      const outcome = await this.attempt(() => handler(msgs.slice(), this.context))
      if (this.guard.exceeded || this.d.host.abandoned()) return false
      if (!outcome.ok && !(await this.giveUp(raws, outcome.error, outcome.attempts))) return false
    }
    return true
  }

  async chunks(): Promise<void> {
    const { settings, tracker, metrics } = this.d
    const records = this.batch.records
    const size = settings.maxPollRecords
    for (let start = 0; start < records.length; start += size) {
      if (this.shouldBreak()) break
      const end = Math.min(records.length, start + size)
      const chunk: RawRecord[] = []
      for (let i = start; i < end; i++) chunk.push(this.raw(records[i] as FetchedRecord))
      const goOn = this.h.eachMessage !== undefined ? await this.eachMessage(chunk) : await this.eachBatch(chunk)
      if (!goOn) break
      this.flush()
      if (start + size >= records.length) this.completed = true
      // Between chunks: a heartbeat, which is also where a rebalance shows up.
      if (this.heartbeatError === null && !this.guard.exceeded) {
        try {
          await this.batch.heartbeat()
        } catch (err) {
          this.heartbeatError = err
        }
      }
    }
    // Transaction markers after the last record are never handed out; count them as done so lag reaches 0.
    const lastRecordOffset = records[records.length - 1]!.offset
    if (this.completed && this.batch.lastOffset() !== lastRecordOffset) {
      tracker.finished(this.batch.topic, this.batch.partition, this.batch.lastOffset())
      // The next fetch starts past them too (as kafkajs's own auto-resolve does), not at the first marker again.
      this.batch.resolveOffset(this.batch.lastOffset())
      metrics.position(this.batch.topic, this.batch.partition, Number(this.batch.lastOffset()) + 1, Number(this.batch.highWatermark))
    }
  }

  /** After the batch: leave the group quietly after a guard expiry, commit on revoke, hand rebalances to kafkajs. */
  async after(): Promise<void> {
    const { committer, log, host } = this.d
    if (this.guard.exceeded) {
      // This member stopped heartbeating; one heartbeat tells whether it was evicted (then kafkajs rejoins).
      await this.batch.heartbeat()
      return
    }
    if (host.failed()) {
      await committer.commitPending(this.batch.commit).catch((err: unknown) => log.warn({ err }, 'commit of finished records failed while stopping'))
      return
    }
    if (this.heartbeatError !== null) {
      // Revoke: the generation is still valid while the group prepares the rebalance, so commit what finished.
      if ((this.heartbeatError as { type?: string }).type === 'REBALANCE_IN_PROGRESS') {
        await committer.commitPending(this.batch.commit).catch((err: unknown) => log.warn({ err }, 'commit on revoke failed'))
      }
      throw this.heartbeatError
    }
  }
}
