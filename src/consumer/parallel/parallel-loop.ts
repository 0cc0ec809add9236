/**
 * The loop for ordering 'key' and 'unordered': a fetched batch is handed out record by record to a
 * `KeyScheduler` (p-queue, `concurrency` records in flight per consumer) and the eachBatch call returns as soon
 * as its records are handed out, so kafkajs fetches on while handlers run. Back-pressure: the eachBatch call
 * waits (heartbeating) while the partition has `maxPendingPerPartition` records pending, or while handing out
 * the next record would stretch the offset map past the metadata limit; kafkajs fetches nothing more for that
 * partition until the call returns. Completions go to a `CompletionTracker`; commits carry its offset maps.
 */
import type { Logger } from 'pino'
import type { ConsumerSettings } from '../../config/index.js'
import { KafkatuneError, isKafkatuneError } from '../../errors.js'
import type { ConsumedMessage } from '../../messages.js'
import type { BatchLoopHost, FetchedBatch, FetchedRecord } from '../batch-loop.js'
import type { CommitStrategy } from '../commit/index.js'
import type { GroupCommitter } from '../committer.js'
import type { RawRecord } from '../dead-letter.js'
import { decodeRecord } from '../decode.js'
import { processTracer } from '../../observability/tracing-consumer.js'
import type { ConsumerMetricsRecorder } from '../metrics.js'
import { partitionKey } from '../offsets.js'
import { runWithRetries } from '../retry.js'
import type { RetryOutcome } from '../retry.js'
import type { HandlerContext, MaxPollIntervalExceededEvent, RunHandlers } from '../types.js'
import { PartitionCompletion } from './completion.js'
import type { CompletionTracker } from './completion.js'
import { KeyScheduler } from './scheduler.js'

/** The committed offset and metadata of one partition, as the group coordinator has them. */
export interface CommittedOffset {
  offset: string | null
  metadata: string | null
}

export interface ParallelLoopHost<K, V> extends BatchLoopHost<K, V> {
  /** Reads back the committed offset and metadata of a partition this member just got. */
  restore(topic: string, partition: number): Promise<CommittedOffset>
}

/** What the metrics snapshot shows of out-of-order processing. */
export interface ParallelGauges {
  inFlight: number
  queueDepth: Record<string, number>
  keysWaiting: number
  offsetMapRecords: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface Running {
  startedAt: number
  raw: RawRecord
  exceeded: boolean
}

export class ParallelLoop<K, V> {
  readonly #scheduler: KeyScheduler
  readonly #running = new Set<Running>()
  /** One signal for every running handler (one AbortController per record costs more than the handler call). */
  #controller = new AbortController()
  #context: HandlerContext = { signal: this.#controller.signal }
  readonly #restoring = new Map<string, Promise<PartitionCompletion>>()
  #batches = 0
  #progressWaiters: (() => void)[] = []
  #guardTimer: NodeJS.Timeout | null = null
  /** A revocation is under way: running handlers finish, nothing more starts until the next join. */
  #draining = false
  /** Pending records per partition before its eachBatch call waits. */
  readonly maxPendingPerPartition: number

  constructor(
    private readonly settings: ConsumerSettings<K, V>,
    private readonly completion: CompletionTracker,
    private readonly committer: GroupCommitter,
    private readonly strategy: CommitStrategy,
    private readonly metrics: ConsumerMetricsRecorder,
    private readonly log: Logger,
    private readonly host: ParallelLoopHost<K, V>,
  ) {
    const concurrency = settings.concurrency
    this.#scheduler = new KeyScheduler(concurrency, settings.ordering === 'key')
    this.maxPendingPerPartition = Math.max(settings.maxPollRecords, concurrency * 4)
  }

  /** eachBatch calls in progress plus records handed out and not finished. */
  get active(): number {
    return this.#batches + this.#scheduler.size
  }

  gauges(): ParallelGauges {
    const queueDepth: Record<string, number> = {}
    let offsetMapRecords = 0
    for (const p of this.completion.all()) {
      queueDepth[`${p.topic}/${p.partition}`] = p.pendingCount
      offsetMapRecords += p.completedAhead
    }
    return { inFlight: this.#scheduler.running, queueDepth, keysWaiting: this.#scheduler.keysWaiting, offsetMapRecords }
  }

  /** Resolves when no eachBatch call runs and every record handed out finished. */
  async idle(): Promise<void> {
    while (this.active > 0) {
      await this.#scheduler.idle()
      if (this.#batches > 0) await this.#progress(50)
    }
  }

  /** Before a rejoin: records not started yet stay with the partition's next owner; resolves when the running ones finished. */
  drain(): Promise<void> {
    this.#draining = true
    this.#notify()
    return this.idle()
  }

  abortAll(reason: KafkatuneError): void {
    this.#controller.abort(reason)
  }

  /** An eager rebalance revoked every partition: the next batch of each reads its commit back. */
  reset(): void {
    this.#draining = false
    if (this.#controller.signal.aborted) {
      this.#controller = new AbortController()
      this.#context = { signal: this.#controller.signal }
    }
    this.completion.clear()
    this.#restoring.clear()
  }

  /** The partition moved (seek, offset reset): start afresh from wherever kafkajs fetches next, without a map. */
  restart(topic: string, partition: number): void {
    this.#restoring.delete(partitionKey(topic, partition))
    this.completion.set(new PartitionCompletion(topic, partition, -1n, [], this.settings.offsetMetadataMaxBytes))
  }

  /** A batch without records (transaction markers only) passed `lastOffset`. */
  passed(topic: string, partition: number, lastOffset: string): void {
    this.completion.get(topic, partition)?.passed(BigInt(lastOffset))
  }

  #progress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.#progressWaiters.push(() => {
        clearTimeout(t)
        resolve()
      })
    })
  }

  #notify(): void {
    const waiters = this.#progressWaiters
    this.#progressWaiters = []
    for (const w of waiters) w()
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

  /** maxPollIntervalMs per record: an overrun leaves a gap no commit can pass, so the consumer stops. */
  #checkGuard(): void {
    const now = Date.now()
    for (const r of this.#running) {
      const elapsedMs = now - r.startedAt
      if (elapsedMs <= this.settings.maxPollIntervalMs) continue
      this.metrics.maxPollIntervalExceeded++
      const event: MaxPollIntervalExceededEvent = { topic: r.raw.topic, partition: r.raw.partition, offset: r.raw.offset, elapsedMs, maxPollIntervalMs: this.settings.maxPollIntervalMs }
      const err = new KafkatuneError('MAX_POLL_INTERVAL_EXCEEDED', `handler outlived maxPollIntervalMs at ${r.raw.topic}[${r.raw.partition}]@${r.raw.offset}`, { retriable: false, details: { ...event } })
      r.exceeded = true
      this.#running.delete(r)
      this.#controller.abort(err)
      this.host.emitExceeded(event)
      this.host.fail(err)
    }
  }

  stopGuard(): void {
    if (this.#guardTimer !== null) clearInterval(this.#guardTimer)
    this.#guardTimer = null
  }

  /** Hands one batch out; throws the heartbeat error of a rebalance so kafkajs rejoins. */
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
    let heartbeatError: unknown = null
    const stopped = () => heartbeatError !== null || this.#draining || this.host.halted() || !batch.isRunning() || batch.isStale()
    try {
      const part = await this.#partition(batch.topic, batch.partition)
      let all = true
      // kafkajs' resolveOffset costs more than handing a record out: once per batch (or where it stopped).
      let handed: string | null = null
      let n = 0
      const tracer = processTracer(this.settings)
      for (const r of batch.records) {
        const offset = BigInt(r.offset)
        if (part.behind(offset)) continue
        if (part.wasCompleted(offset)) {
          part.handOut(offset, true)
          this.metrics.skippedOnRestore++
          handed = r.offset
          continue
        }
        let waited = false
        // Once full, wait until half drained: waking per finished record would cost a timer per record.
        if (part.pendingCount >= this.maxPendingPerPartition) {
          waited = true
          heartbeatError ??= await this.#waitFor(batch, () => part.pendingCount <= this.maxPendingPerPartition >> 1, stopped)
        }
        if (!part.canHandOut(offset)) {
          waited = true
          heartbeatError ??= await this.#waitFor(batch, () => part.canHandOut(offset), stopped)
        }
        // kafkajs' isStale()/isRunning() cost a map lookup each: asked every 64 records and after every wait.
        if (((n++ & 63) === 0 || waited) && (stopped() || this.completion.get(batch.topic, batch.partition) !== part)) {
          all = false
          break
        }
        part.handOut(offset)
        const raw = this.#raw(batch, r)
        const handle = () => this.#handle(h, batch, part, raw)
        this.#scheduler.add(raw.key === null ? `${part.key}:@${raw.offset}` : `${part.key}:${raw.key.toString('latin1')}`, tracer === null ? handle : () => tracer.record(raw, handle))
        handed = r.offset
      }
      if (all) {
        part.passed(BigInt(batch.lastOffset()))
        batch.resolveOffset(batch.lastOffset())
      } else if (handed !== null) batch.resolveOffset(handed)
    } finally {
      this.#batches--
      this.#notify()
    }
    if (heartbeatError !== null) throw heartbeatError
  }

  /** Waits (heartbeating) until `ready` or `stopped`; returns the heartbeat error of a rebalance, if one came. */
  async #waitFor(batch: FetchedBatch, ready: () => boolean, stopped: () => boolean): Promise<unknown> {
    let lastBeat = Date.now()
    while (!stopped() && !ready()) {
      await this.#progress(Math.min(this.settings.heartbeatIntervalMs, 1000))
      if (Date.now() - lastBeat >= this.settings.heartbeatIntervalMs) {
        lastBeat = Date.now()
        try {
          await batch.heartbeat()
        } catch (err) {
          return err
        }
      }
    }
    return null
  }

  #raw(batch: FetchedBatch, r: FetchedRecord): RawRecord {
    return { topic: batch.topic, partition: batch.partition, offset: r.offset, timestamp: r.timestamp, key: r.key ?? null, value: r.value ?? null, headers: r.headers ?? {} }
  }

  /** One record: decode, handler with retries, dead-letter topic, completion. */
  async #handle(h: RunHandlers<K, V>, batch: FetchedBatch, part: PartitionCompletion, raw: RawRecord): Promise<void> {
    // Records queued when the consumer stops or loses the partition are left to the next owner.
    if (this.#draining || this.host.halted() || this.completion.get(raw.topic, raw.partition) !== part) return
    const running: Running = { startedAt: Date.now(), raw, exceeded: false }
    this.#running.add(running)
    const context = this.#context
    try {
      let msg: ConsumedMessage<K, V>
      try {
        const decoded = decodeRecord(raw, this.settings.keyDeserializer, this.settings.valueDeserializer)
        msg = decoded instanceof Promise ? await decoded : decoded
      } catch (err) {
        if (await this.#giveUp(raw, err, 0)) await this.#complete(batch, part, raw)
        return
      }
      const outcome = await this.#call(h.eachMessage!, msg, context, raw)
      // A call that outlived maxPollIntervalMs or stop()'s deadline is not recorded, nor one aborted by the signal.
      if (running.exceeded || this.host.abandoned() || (!outcome.ok && context.signal.aborted)) return
      if (!outcome.ok && !(await this.#giveUp(raw, outcome.error, outcome.attempts))) return
      await this.#complete(batch, part, raw)
    } finally {
      this.#running.delete(running)
      this.#notify()
    }
  }

  /** The handler with retries; without a retry policy, one plain call (the common case, kept cheap). */
  async #call(handler: NonNullable<RunHandlers<K, V>['eachMessage']>, msg: ConsumedMessage<K, V>, context: HandlerContext, raw: RawRecord): Promise<RetryOutcome> {
    const once = async () => {
      const started = Date.now()
      try {
        await handler(msg, context)
      } finally {
        this.metrics.handlerTime(Date.now() - started)
      }
    }
    if (this.settings.retry === null) {
      try {
        await once()
        return { ok: true, attempts: 1 }
      } catch (error) {
        return { ok: false, attempts: 1, error }
      }
    }
    return runWithRetries(once, this.settings.retry, {
      sleep,
      onRetry: (n, err) => {
        this.metrics.retries++
        this.log.info({ topic: raw.topic, partition: raw.partition, offset: raw.offset, attempt: n, err }, 'handler failed, retrying')
      },
      shouldStop: () => context.signal.aborted || this.host.failed(),
    })
  }

  async #complete(batch: FetchedBatch, part: PartitionCompletion, raw: RawRecord): Promise<void> {
    if (this.completion.get(raw.topic, raw.partition) !== part || this.host.abandoned()) return
    part.complete(BigInt(raw.offset))
    this.metrics.finished(1)
    this.metrics.position(raw.topic, raw.partition, Number(part.committable), Number(batch.highWatermark))
    if (this.strategy.processed(part.key, Date.now())) {
      if (this.strategy.name === 'per-message') await this.committer.commitPending().catch((err: unknown) => this.log.debug({ err }, 'commit failed; the next one retries'))
      else this.committer.commitSoon()
    }
  }

  /** A record failed for good: dead-letter it (true) or stop the consumer (false). */
  async #giveUp(raw: RawRecord, error: unknown, attempts: number): Promise<boolean> {
    const where = { topic: raw.topic, partition: raw.partition, offset: raw.offset }
    const err = isKafkatuneError(error, 'DESERIALIZATION')
      ? error
      : new KafkatuneError('HANDLER_FAILED', `Handler failed on ${raw.topic}[${raw.partition}]@${raw.offset} after ${attempts} attempt(s): ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
          retriable: false,
          details: { ...where, attempts, groupId: this.settings.groupId },
        })
    if (this.settings.deadLetterTopic === null) {
      this.host.fail(err)
      return false
    }
    try {
      await this.host.deadLetter([raw], err, attempts)
      return true
    } catch (dlqErr) {
      this.host.fail(new KafkatuneError('KAFKA', `Cannot write ${raw.topic}[${raw.partition}]@${raw.offset} to the dead-letter topic ${this.settings.deadLetterTopic}`, { cause: dlqErr, details: where }))
      return false
    }
  }
}
