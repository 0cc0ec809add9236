/**
 * The loop for ordering 'key' and 'unordered': a fetched batch is handed out record by record to a
 * `KeyScheduler` (p-queue, `concurrency` records in flight per consumer) and the eachBatch call returns as soon
 * as its records are handed out, so kafkajs fetches on while handlers run. Back-pressure: when a partition has
 * `maxPendingPerPartition` records pending, or handing out the next record would stretch the offset map past the
 * metadata limit, the rest of the batch waits in the partition's backlog (not fetched again: decoding a fetch
 * costs more than keeping it) and fetching of that partition pauses; as records finish the backlog goes out, and
 * fetching resumes once it is empty. Other partitions flow meanwhile. Completions go to a `CompletionTracker`;
 * commits carry its offset maps.
 */
import type { Logger } from '../../logging/types.js'
import type { ConsumerSettings } from '../../config/index.js'
import { KafkatuneError } from '../../errors.js'
import type { ConsumedMessage } from '../../messages.js'
import type { FetchedBatch, FetchedRecord } from '../batch-loop.js'
import type { CommitStrategy } from '../commit/index.js'
import type { GroupCommitter } from '../committer.js'
import { decodeRecord } from '../decode.js'
import { oldestCall } from '../liveness.js'
import { processTracer } from '../../observability/tracing-consumer.js'
import type { ConsumerMetricsRecorder } from '../metrics.js'
import type { EachMessageHandler } from '../types.js'
import { PartitionCompletion } from './completion.js'
import type { CompletionTracker } from './completion.js'
import { giveUp, withRetries } from './record-outcome.js'
import type { Job } from './record-outcome.js'
import { PartitionRestorer } from './restore.js'
import { KeyScheduler } from './scheduler.js'
import type { Backlog, ParallelGauges, ParallelLoopHost, Runner } from './types.js'
import { overrun, startGuardTimer } from './guard.js'

export type { CommittedOffset, ParallelGauges, ParallelLoopHost } from './types.js'

const NO_ERROR = Symbol('no error')

export class ParallelLoop<K, V> {
  #scheduler: KeyScheduler<Job>
  readonly #byKey: boolean
  readonly #runners = new Set<Runner>()
  /** Runners the guard gave up whose handler call has not returned yet (still running, for `health()`). */
  readonly #givenUp = new Set<Runner>()
  /** A runner hung past the guard and holds its p-queue slot: the next join starts a new scheduler. */
  #stuck = false
  /** stop()'s deadline passed: runners started from now on begin aborted. */
  #abortReason: KafkatuneError | null = null
  readonly #restorer: PartitionRestorer
  /** Per paused partition, the fetched records it had no room for. */
  readonly #backlogs = new Map<PartitionCompletion, Backlog>()
  #batches = 0
  /** Records handed out and not yet finished, dropped or given up. */
  #outstanding = 0
  #inFlight = 0
  #sinceLag = 0
  #idleWaiters: (() => void)[] = []
  #guardTimer: NodeJS.Timeout | null = null
  /** A revocation is under way: running handlers finish, nothing more starts until the next join. */
  #draining = false
  /** Pending records per partition at which its fetching pauses. */
  readonly maxPendingPerPartition: number
  /** Pending records at or below which a paused partition resumes. */
  readonly resumeAt: number

  constructor(
    private readonly settings: ConsumerSettings<K, V>,
    private readonly completion: CompletionTracker,
    private readonly committer: GroupCommitter,
    private readonly strategy: CommitStrategy,
    private readonly metrics: ConsumerMetricsRecorder,
    private readonly log: Logger,
    private readonly host: ParallelLoopHost<K, V>,
  ) {
    this.#byKey = settings.ordering === 'key'
    this.#scheduler = this.#newScheduler()
    this.maxPendingPerPartition = Math.max(settings.maxPollRecords, settings.concurrency * 4)
    this.resumeAt = this.maxPendingPerPartition >> 1
    this.#restorer = new PartitionRestorer(completion, host, log, settings.offsetMetadataMaxBytes)
  }

  #newScheduler(): KeyScheduler<Job> {
    const scheduler: KeyScheduler<Job> = new KeyScheduler<Job>(this.settings.concurrency, this.#byKey, () => this.#run(scheduler))
    return scheduler
  }

  /** eachBatch calls in progress plus records handed out and not finished. */
  get active(): number {
    return this.#batches + this.#outstanding
  }

  gauges(): ParallelGauges {
    return { inFlight: this.#inFlight, keysWaiting: this.#scheduler.keysWaiting, ...this.completion.depth() }
  }

  /** Resolves when no eachBatch call runs and every record handed out finished (or was given up). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #settled(count: number): void {
    this.#outstanding -= count
    if (this.#outstanding + this.#batches === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const w of waiters) w()
    }
  }

  /** Before a rejoin: records not started yet stay with the partition's next owner; resolves when the running ones finished. */
  drain(): Promise<void> {
    this.#draining = true
    return this.idle()
  }

  abortAll(reason: KafkatuneError): void {
    this.#abortReason = reason
    for (const r of this.#runners) r.controller.abort(reason)
  }

  /** An eager rebalance revoked every partition: the next batch of each reads its commit back. */
  reset(): void {
    this.#draining = false
    this.#abortReason = null
    if (this.#stuck) {
      this.#stuck = false
      this.#scheduler = this.#newScheduler()
    }
    for (const p of this.completion.all()) this.#release(p)
    this.#backlogs.clear()
    this.completion.clear()
    this.#restorer.clear()
  }

  /** The partition moved (seek, offset reset): start afresh from wherever kafkajs fetches next, without a map. */
  restart(topic: string, partition: number): void {
    const old = this.completion.get(topic, partition)
    if (old !== undefined) {
      this.#backlogs.delete(old)
      this.#release(old)
    }
    this.#restorer.forget(topic, partition)
    this.completion.set(new PartitionCompletion(topic, partition, -1n, [], this.settings.offsetMetadataMaxBytes))
  }

  /** A batch without records (transaction markers only) passed `lastOffset`. */
  passed(topic: string, partition: number, lastOffset: string): void {
    this.completion.get(topic, partition)?.passed(BigInt(lastOffset))
  }

  /** Partitions whose fetching the loop paused (back-pressure). */
  holds(topic: string, partition: number): boolean {
    return this.completion.get(topic, partition)?.held === true
  }

  #hold(part: PartitionCompletion): void {
    if (part.held) return
    part.held = true
    this.log.debug({ topic: part.topic, partition: part.partition, pending: part.pendingCount }, 'back-pressure: fetching of the partition paused')
    this.host.pause(part.topic, part.partition)
  }

  #release(part: PartitionCompletion): void {
    if (!part.held) return
    part.held = false
    this.log.debug({ topic: part.topic, partition: part.partition, pending: part.pendingCount }, 'back-pressure: fetching of the partition resumed')
    this.host.resume(part.topic, part.partition)
  }

  #startGuard(): void {
    this.#guardTimer ??= startGuardTimer(this.settings.maxPollIntervalMs, () => this.#checkGuard())
  }

  /**
   * maxPollIntervalMs per record, as the Java client: the record is given up (never committed past), the member
   * leaves the group and joins again, and the consumer goes on; whoever gets the partition handles it again.
   */
  #checkGuard(): void {
    const now = Date.now()
    for (const r of this.#runners) {
      const job = r.current
      if (job === null) continue
      const elapsedMs = now - r.startedAt
      if (elapsedMs <= this.settings.maxPollIntervalMs) continue
      this.metrics.maxPollIntervalExceeded++
      const { event, error, message } = overrun(job, elapsedMs, this.settings.maxPollIntervalMs)
      this.#abandon(r)
      r.controller.abort(error)
      this.host.emitExceeded(event)
      if (this.host.requestRejoin()) this.log.error({ ...event }, message)
      else this.host.fail(error)
    }
  }

  /** Gives a runner's record up (and, for a key's lane, the records queued behind it on that key). */
  #abandon(r: Runner): void {
    r.abandoned = true
    r.current = null
    this.#runners.delete(r)
    this.#givenUp.add(r)
    this.#inFlight--
    this.#stuck = true
    const rest = r.lane !== null ? r.scheduler.detach(r.lane).length : 0
    r.lane = null
    this.#settled(1 + rest)
  }

  /** Start of the oldest handler call running now, given up or not (ms since the epoch), null when none runs: read by `health()`. */
  oldestCallStartedAt(): number | null {
    return oldestCall([...this.#runners, ...this.#givenUp].map((r) => ({ callStartedAt: r.current !== null || r.abandoned ? r.startedAt : null })))
  }

  stopGuard(): void {
    if (this.#guardTimer !== null) clearInterval(this.#guardTimer)
    this.#guardTimer = null
  }

  /**
   * Hands one batch out, or as much of it as the partition has room for: then the rest waits in the partition's
   * backlog (kept, not fetched again), the fetch position moves past the batch and fetching of the partition
   * pauses until the backlog is handed out.
   */
  async run(batch: FetchedBatch): Promise<void> {
    const h = this.host.handlers()
    if (this.host.halted() || h === null || batch.records.length === 0) return
    if (h.eachMessage === undefined) {
      this.host.fail(new KafkatuneError('CONFIG_INVALID', `ordering '${this.settings.ordering}' hands records out one by one: use eachMessage, not eachBatch`, { retriable: false }))
      return
    }
    this.#batches++
    this.#startGuard()
    this.committer.useDirect(batch.commit)
    try {
      const part = await this.#restorer.get(batch.topic, batch.partition)
      // Fetched before the pause took effect: leave the fetch position alone, the records come again after the resume.
      if (part.held) return
      part.highWatermark = BigInt(batch.highWatermark)
      const records = batch.records
      const i = this.#handOut(part, records, 0, batch)
      if (i === records.length) {
        part.passed(BigInt(batch.lastOffset()))
        batch.resolveOffset(batch.lastOffset())
      } else if (i >= 0) {
        this.#backlogs.set(part, { records, index: i, lastOffset: batch.lastOffset() })
        this.#hold(part)
        batch.resolveOffset(batch.lastOffset())
      } else if (i < -1) batch.resolveOffset(records[-i - 2]!.offset)
    } finally {
      this.#batches--
      this.#settled(0)
    }
  }

  /**
   * Hands out `records` from `from` while the partition has room. Returns `records.length` when all went out, the
   * index of the first record that did not fit, or, when it stopped for another reason (stale batch, revocation,
   * stop), -1 (nothing handed out) or -(i + 2) where i is the last record handed out.
   */
  #handOut(part: PartitionCompletion, records: readonly FetchedRecord[], from: number, batch: FetchedBatch | null): number {
    const group = this.#scheduler.group(part.key)
    let limit = part.handOutLimit()
    let n = 0
    for (let i = from; i < records.length; i++) {
      const r = records[i]!
      const offset = BigInt(r.offset)
      if (part.behind(offset)) continue
      // kafkajs' isStale()/isRunning() cost a map lookup each: asked every 64 records.
      if ((n++ & 63) === 0 && (part.retired || this.#draining || this.host.halted() || (batch !== null && (!batch.isRunning() || batch.isStale())))) return i === from ? -1 : -(i - 1 + 2)
      if (part.wasCompleted(offset)) {
        part.handOut(offset, true)
        this.metrics.skippedOnRestore++
        continue
      }
      if (part.pendingCount >= this.maxPendingPerPartition || (offset >= limit && offset >= (limit = part.handOutLimit()))) return i
      const job: Job = { topic: part.topic, partition: part.partition, offset: r.offset, timestamp: r.timestamp, key: r.key ?? null, value: r.value ?? null, headers: r.headers ?? {}, at: offset, done: false, part }
      part.handOut(offset, false, job)
      this.#outstanding++
      this.#scheduler.add(group, this.#byKey && job.key !== null ? job.key.toString('latin1') : null, job)
    }
    return records.length
  }

  /** Room again in a paused partition: its backlog goes out; once all of it did, fetching resumes. */
  #refill(part: PartitionCompletion): void {
    const b = this.#backlogs.get(part)
    if (b !== undefined) {
      const i = this.#handOut(part, b.records, b.index, null)
      if (i >= 0 && i < b.records.length) {
        b.index = i
        return
      }
      this.#backlogs.delete(part)
      if (i !== b.records.length) return
      part.passed(BigInt(b.lastOffset))
    }
    this.#release(part)
  }

  /** One runner (a p-queue task): records from the scheduler until it has none (the per-record path, kept lean). */
  async #run(scheduler: KeyScheduler<Job>): Promise<void> {
    const controller = new AbortController()
    if (this.#abortReason !== null) controller.abort(this.#abortReason)
    const runner: Runner = { lane: null, budget: 0, current: null, startedAt: 0, abandoned: false, scheduler, controller, context: { signal: controller.signal } }
    this.#runners.add(runner)
    /** The scheduler counted this runner out (next() returned undefined); otherwise `leave()` must. */
    let out = false
    const tracer = processTracer(this.settings)
    try {
      for (;;) {
        const job = scheduler.next(runner)
        if (job === undefined) {
          out = true
          return
        }
        const h = this.host.handlers()
        // Records queued when the consumer stops or loses the partition are left to the next owner.
        if (this.#draining || job.part.retired || h === null || h.eachMessage === undefined || this.host.halted()) {
          this.#settled(1)
          continue
        }
        const goOn = tracer === null ? await this.#process(job, runner, h.eachMessage) : await tracer.record(job, () => this.#process(job, runner, h.eachMessage!))
        // The guard gave the record up and settled it: nothing of it is recorded, and this runner ends.
        if (!goOn) return
      }
    } catch (err) {
      // A bug in the loop, not a record's failure: stop rather than leave the record's gap open forever.
      this.host.fail(new KafkatuneError('KAFKA', 'ordering key/unordered: a record runner failed', { cause: err, retriable: false }))
    } finally {
      this.#runners.delete(runner)
      if (!out) scheduler.leave()
    }
  }

  /** One record: decode, handler (with retries), dead-letter topic, completion. False when the guard gave it up. */
  async #process(job: Job, runner: Runner, handler: EachMessageHandler<K, V>): Promise<boolean> {
    const context = runner.context
    runner.current = job
    const started = (runner.startedAt = Date.now())
    this.#inFlight++
    let error: unknown = NO_ERROR
    let attempts = 1
    let msg: ConsumedMessage<K, V> | null = null
    try {
      const decoded = decodeRecord(job, this.settings.keyDeserializer, this.settings.valueDeserializer)
      msg = decoded instanceof Promise ? await decoded : decoded
    } catch (err) {
      error = err
      attempts = 0
    }
    if (msg !== null) {
      if (this.settings.retry === null) {
        try {
          await handler(msg, context)
        } catch (err) {
          error = err
        }
        this.metrics.handlerTime(Date.now() - started)
      } else {
        const outcome = await withRetries(handler, msg, context, job, this.settings.retry, this.metrics, this.log, this.host)
        if (!outcome.ok) {
          error = outcome.error
          attempts = outcome.attempts
        }
      }
    }
    if (runner.abandoned) {
      this.#givenUp.delete(runner)
      return false
    }
    runner.current = null
    this.#inFlight--
    // A call that outlived stop()'s deadline is not recorded, nor one aborted by the signal.
    if (this.host.abandoned() || (error !== NO_ERROR && attempts > 0 && context.signal.aborted)) {
      this.#settled(1)
      return true
    }
    if (error !== NO_ERROR && !(await giveUp(job, error, attempts, this.settings, this.host))) {
      this.#settled(1)
      return true
    }
    const commit = this.#complete(job)
    if (commit !== undefined) await commit
    this.#settled(1)
    return true
  }

  /** A record finished: the offset map, back-pressure, metrics, and a commit when the strategy says so. */
  #complete(job: Job): Promise<void> | undefined {
    const part = job.part
    if (part.retired || this.host.abandoned()) return undefined
    part.completeSlot(job)
    this.metrics.finished(1)
    if (part.held && part.pendingCount <= this.resumeAt && part.next < part.handOutLimit()) this.#refill(part)
    // The lag gauge needs the committable offset (a walk over completed slots): now and then, and at the end.
    if ((++this.#sinceLag & 63) === 0 || part.pendingCount === 0) this.metrics.position(part.topic, part.partition, Number(part.committable), Number(part.highWatermark))
    if (!this.strategy.processed(part.key, Date.now())) return undefined
    if (this.strategy.name === 'per-message') return this.committer.commitPending().catch((err: unknown) => this.log.debug({ err }, 'commit failed; the next one retries'))
    this.committer.commitSoon()
    return undefined
  }
}
