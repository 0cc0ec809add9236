/**
 * The loop for ordering 'key' and 'unordered': a fetched batch is handed out record by record to a
 * `KeyScheduler` (p-queue, `concurrency` records in flight per consumer) and the eachBatch call returns as soon
 * as its records are handed out, so kafkajs fetches on while handlers run. Back-pressure: when a partition has
 * `maxPendingPerPartition` records pending, or handing out the next record would stretch the offset map past the
 * metadata limit, the loop stops handing its batch out, resolves the fetch position after the last record handed
 * out and pauses fetching of that partition; the records not handed out are fetched again after the resume,
 * which comes once half the pending records finished (and the map has room). Other partitions flow meanwhile.
 * Completions go to a `CompletionTracker`; commits carry its offset maps.
 */
import type { Logger } from 'pino'
import type { ConsumerSettings } from '../../config/index.js'
import { KafkatuneError } from '../../errors.js'
import type { ConsumedMessage } from '../../messages.js'
import type { BatchLoopHost, FetchedBatch } from '../batch-loop.js'
import type { CommitStrategy } from '../commit/index.js'
import type { GroupCommitter } from '../committer.js'
import { decodeRecord } from '../decode.js'
import type { ConsumerMetricsRecorder } from '../metrics.js'
import { partitionKey } from '../offsets.js'
import type { HandlerContext, RunHandlers } from '../types.js'
import { PartitionCompletion } from './completion.js'
import type { CompletionTracker } from './completion.js'
import { giveUp, withRetries } from './record-outcome.js'
import type { Job } from './record-outcome.js'
import { KeyScheduler } from './scheduler.js'
import type { RunnerSlot } from './scheduler.js'

/** The committed offset and metadata of one partition, as the group coordinator has them. */
export interface CommittedOffset {
  offset: string | null
  metadata: string | null
}

export interface ParallelLoopHost<K, V> extends BatchLoopHost<K, V> {
  /** Reads back the committed offset and metadata of a partition this member just got. */
  restore(topic: string, partition: number): Promise<CommittedOffset>
  /** Stops fetching a partition (back-pressure). */
  pause(topic: string, partition: number): void
  /** Fetches a partition paused by `pause` again (unless the application paused it too). */
  resume(topic: string, partition: number): void
  /**
   * Makes the member leave the group and join again (a record outlived maxPollIntervalMs); false when it cannot,
   * and the consumer then stops instead.
   */
  requestRejoin(): boolean
}

/** What the metrics snapshot shows of out-of-order processing. */
export interface ParallelGauges {
  inFlight: number
  queueDepth: Record<string, number>
  keysWaiting: number
  offsetMapRecords: number
}

/** One p-queue task taking records from the scheduler: the guard watches the record it runs. */
interface Runner extends RunnerSlot<Job> {
  current: Job | null
  startedAt: number
  /** The guard gave its record up: nothing it finishes is recorded. */
  abandoned: boolean
  readonly scheduler: KeyScheduler<Job>
  /** Per runner, not per record: aborting it reaches the handler running on this runner only. */
  readonly controller: AbortController
  readonly context: HandlerContext
}

const NO_ERROR = Symbol('no error')

export class ParallelLoop<K, V> {
  #scheduler: KeyScheduler<Job>
  readonly #byKey: boolean
  readonly #runners = new Set<Runner>()
  /** A runner hung past the guard and holds its p-queue slot: the next join starts a new scheduler. */
  #stuck = false
  /** stop()'s deadline passed: runners started from now on begin aborted. */
  #abortReason: KafkatuneError | null = null
  readonly #restoring = new Map<string, Promise<PartitionCompletion>>()
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
    const queueDepth: Record<string, number> = {}
    let offsetMapRecords = 0
    for (const p of this.completion.all()) {
      queueDepth[p.label] = p.pendingCount
      offsetMapRecords += p.completedAhead
    }
    return { inFlight: this.#inFlight, queueDepth, keysWaiting: this.#scheduler.keysWaiting, offsetMapRecords }
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
    this.completion.clear()
    this.#restoring.clear()
  }

  /** The partition moved (seek, offset reset): start afresh from wherever kafkajs fetches next, without a map. */
  restart(topic: string, partition: number): void {
    const old = this.completion.get(topic, partition)
    if (old !== undefined) this.#release(old)
    this.#restoring.delete(partitionKey(topic, partition))
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

  #partition(topic: string, partition: number): Promise<PartitionCompletion> {
    const existing = this.completion.get(topic, partition)
    if (existing !== undefined) return Promise.resolve(existing)
    const key = partitionKey(topic, partition)
    let p = this.#restoring.get(key)
    if (p === undefined) {
      p = this.host
        .restore(topic, partition)
        .catch((err: unknown) => {
          this.log.warn({ err, topic, partition }, 'cannot read the committed offset map; records completed before may be handled again')
          return { offset: null, metadata: null }
        })
        .then(({ offset, metadata }) => {
          const part = PartitionCompletion.restore(topic, partition, offset, metadata, this.settings.offsetMetadataMaxBytes)
          if (this.#restoring.get(key) === p) this.completion.set(part)
          else part.retired = true
          return part
        })
      this.#restoring.set(key, p)
    }
    return p
  }

  #startGuard(): void {
    if (this.#guardTimer !== null) return
    const period = Math.max(100, Math.min(1000, Math.floor(this.settings.maxPollIntervalMs / 4)))
    this.#guardTimer = setInterval(() => this.#checkGuard(), period)
    this.#guardTimer.unref()
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
      const event = { topic: job.topic, partition: job.partition, offset: job.offset, elapsedMs, maxPollIntervalMs: this.settings.maxPollIntervalMs }
      const err = new KafkatuneError('MAX_POLL_INTERVAL_EXCEEDED', `handler outlived maxPollIntervalMs at ${job.topic}[${job.partition}]@${job.offset}`, { retriable: false, details: { ...event } })
      this.#abandon(r)
      r.controller.abort(err)
      this.host.emitExceeded(event)
      if (this.host.requestRejoin()) {
        this.log.error(
          { ...event },
          `handler ran ${elapsedMs} ms, longer than maxPollIntervalMs (${this.settings.maxPollIntervalMs}): the record stays uncommitted and this member leaves the group and joins again`,
        )
      } else this.host.fail(err)
    }
  }

  /** Gives a runner's record up (and, for a key's lane, the records queued behind it on that key). */
  #abandon(r: Runner): void {
    r.abandoned = true
    r.current = null
    this.#runners.delete(r)
    this.#inFlight--
    this.#stuck = true
    const rest = r.lane !== null ? r.scheduler.detach(r.lane).length : 0
    r.lane = null
    this.#settled(1 + rest)
  }

  stopGuard(): void {
    if (this.#guardTimer !== null) clearInterval(this.#guardTimer)
    this.#guardTimer = null
  }

  /** Hands one batch out, or as much of it as the partition has room for (then pauses it). */
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
      const part = await this.#partition(batch.topic, batch.partition)
      part.highWatermark = BigInt(batch.highWatermark)
      const group = this.#scheduler.group(part.key)
      let limit = part.handOutLimit()
      let all = true
      // kafkajs' resolveOffset costs more than handing a record out: once per batch (or where it stopped).
      let handed: string | null = null
      let n = 0
      for (const r of batch.records) {
        const offset = BigInt(r.offset)
        if (part.behind(offset)) continue
        if (part.wasCompleted(offset)) {
          part.handOut(offset, true)
          this.metrics.skippedOnRestore++
          handed = r.offset
          continue
        }
        // Records not handed out are fetched again after the resume (the fetch position stays before them).
        if (part.held || part.pendingCount >= this.maxPendingPerPartition || (offset >= limit && offset >= (limit = part.handOutLimit()))) {
          this.#hold(part)
          all = false
          break
        }
        // kafkajs' isStale()/isRunning() cost a map lookup each: asked every 64 records.
        if ((n++ & 63) === 0 && (part.retired || this.#draining || this.host.halted() || !batch.isRunning() || batch.isStale())) {
          all = false
          break
        }
        const job: Job = { topic: batch.topic, partition: batch.partition, offset: r.offset, timestamp: r.timestamp, key: r.key ?? null, value: r.value ?? null, headers: r.headers ?? {}, at: offset, done: false, part }
        part.handOut(offset, false, job)
        this.#outstanding++
        this.#scheduler.add(group, this.#byKey && job.key !== null ? job.key.toString('latin1') : null, job)
        handed = r.offset
      }
      if (all) {
        part.passed(BigInt(batch.lastOffset()))
        batch.resolveOffset(batch.lastOffset())
      } else if (handed !== null) batch.resolveOffset(handed)
    } finally {
      this.#batches--
      this.#settled(0)
    }
  }

  /** One runner (a p-queue task): records from the scheduler until it has none (the per-record path, kept lean). */
  async #run(scheduler: KeyScheduler<Job>): Promise<void> {
    const controller = new AbortController()
    if (this.#abortReason !== null) controller.abort(this.#abortReason)
    const runner: Runner = { lane: null, budget: 0, current: null, startedAt: 0, abandoned: false, scheduler, controller, context: { signal: controller.signal } }
    this.#runners.add(runner)
    try {
      for (let job = scheduler.next(runner); job !== undefined; job = scheduler.next(runner)) {
        const h = this.host.handlers()
        // Records queued when the consumer stops or loses the partition are left to the next owner.
        if (this.#draining || job.part.retired || h === null || h.eachMessage === undefined || this.host.halted()) {
          this.#settled(1)
          continue
        }
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
              await h.eachMessage(msg, context)
            } catch (err) {
              error = err
            }
            this.metrics.handlerTime(Date.now() - started)
          } else {
            const outcome = await withRetries(h.eachMessage, msg, context, job, this.settings.retry, this.metrics, this.log, this.host)
            if (!outcome.ok) {
              error = outcome.error
              attempts = outcome.attempts
            }
          }
        }
        if (runner.abandoned) {
          // The guard gave this record up and settled it: nothing of it is recorded, and this runner ends.
          scheduler.leave()
          return
        }
        runner.current = null
        this.#inFlight--
        // A call that outlived stop()'s deadline is not recorded, nor one aborted by the signal.
        if (this.host.abandoned() || (error !== NO_ERROR && attempts > 0 && context.signal.aborted)) {
          this.#settled(1)
          continue
        }
        if (error !== NO_ERROR && !(await giveUp(job, error, attempts, this.settings, this.host))) {
          this.#settled(1)
          continue
        }
        const commit = this.#complete(job)
        if (commit !== undefined) await commit
        this.#settled(1)
      }
    } finally {
      this.#runners.delete(runner)
    }
  }

  /** A record finished: the offset map, back-pressure, metrics, and a commit when the strategy says so. */
  #complete(job: Job): Promise<void> | undefined {
    const part = job.part
    if (part.retired || this.host.abandoned()) return undefined
    part.completeSlot(job)
    this.metrics.finished(1)
    if (part.held && part.pendingCount <= this.resumeAt && part.next < part.handOutLimit()) this.#release(part)
    // The lag gauge needs the committable offset (a walk over completed slots): now and then, and at the end.
    if ((++this.#sinceLag & 63) === 0 || part.pendingCount === 0) this.metrics.lag(part.label, Number(part.highWatermark - part.committable))
    if (!this.strategy.processed(part.key, Date.now())) return undefined
    if (this.strategy.name === 'per-message') return this.committer.commitPending().catch((err: unknown) => this.log.debug({ err }, 'commit failed; the next one retries'))
    this.committer.commitSoon()
    return undefined
  }
}
