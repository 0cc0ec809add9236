/**
 * The sender: takes ready batches from the accumulator, groups them per leader broker into bounded
 * produce requests, keeps at most `maxInFlightRequests` requests per broker in flight, settles every
 * record with its own offset, and retries, isolates, expires or fails batches on errors. It talks to
 * Kafka only through a `SenderEngine` (the kafkajs seam lives in `engine.ts`). With idempotence it
 * drives the engine's per-partition sequences (`sequences.ts`): up to `maxInFlightRequests` batches of
 * a partition in flight, retried in sequence order, as the Java client's Sender does.
 */
import { KafkatuneError } from '../errors.js'
import type { RecordAccumulator } from './accumulator.js'
import { BATCH_OVERHEAD_BYTES } from './accumulator.js'
import type { BufferPool } from './buffer-pool.js'
import type { ProducerMetricsRecorder } from './metrics.js'
import { DrainTimer, nextDue } from './drain-timer.js'

export type { OutboundRecord, OutboundBatch, PartitionAck, FailureKind, PartitionAckResult, SendFailure, SenderEngine, SenderOptions, SenderHooks } from './sender-types.js'
import type { OutboundBatch, OutboundRecord, PartitionAck, PartitionAckResult, SendFailure, SenderEngine, SenderOptions, SenderHooks } from './sender-types.js'
import type { PartitionSequences } from './sequences.js'
import { settleWrittenBatch } from './settle-offsets.js'
import { SequenceResolver } from './resolve-sequence.js'
import { InFlight } from './in-flight.js'
import { once } from '../util/once.js'
import { deliveryTimeoutError, nextRequest, retryAt, splitResults } from './sender-requests.js'
import type { RecordMetadata } from './types.js'

/** Drives the accumulator (see the file comment). */
export class Sender {
  private readonly timer = new DrainTimer(() => this.run())
  private readonly inFlight = new InFlight()
  private readonly isolated = new WeakSet<OutboundBatch>()
  private forced = 0
  private resetReason: string | null = null
  private resetting = false
  private fencedError: KafkatuneError | null = null
  /** Partitions whose sequence is being asked of the broker (`resolveSequence`). */
  private readonly resolver: SequenceResolver

  constructor(
    private readonly acc: RecordAccumulator<OutboundRecord>,
    private readonly pool: BufferPool,
    private engine: SenderEngine,
    private readonly metrics: ProducerMetricsRecorder,
    private readonly options: SenderOptions,
    private readonly hooks: SenderHooks = {},
  ) {
    this.resolver = new SequenceResolver({ acc, metrics, onResolved: hooks.onSequenceResolved })
  }

  /** Requests in flight right now. */
  get requestsInFlight(): number {
    return this.inFlight.requests
  }

  /** Records in flight right now. */
  get recordsInFlight(): number {
    return this.inFlight.records
  }

  get fenced(): KafkatuneError | null {
    return this.fencedError
  }

  /** Swap the engine (transactions route produce through the open transaction). */
  setEngine(engine: SenderEngine): void {
    this.engine = engine
  }

  /** Runs a drain pass as soon as the event loop allows (coalesced). */
  wake(): void {
    this.timer.wake()
  }

  /** Runs a drain pass at `at` (ms) unless one is already due earlier. */
  wakeAt(at: number): void {
    this.timer.wakeAt(at)
  }

  /** True while batches must go out without lingering (flush, commit, buffer full). */
  get forcing(): boolean {
    return this.forced > 0 || this.pool.exhausted
  }

  /** While forced (flush, commit), batches go out without lingering. Returns the release function. */
  force(): () => void {
    this.forced++
    this.wake()
    return once(() => this.forced--)
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    return this.inFlight.whenIdle()
  }

  /** Fails every queued (not in flight) batch with `error`. */
  failQueued(error: KafkatuneError): void {
    for (const b of this.acc.drainAll()) this.fail(b, error)
  }

  /** Stops timers (after the last flush). */
  close(): void {
    this.timer.close()
  }

  /** One drain pass: expire, drain ready batches, form and dispatch requests, arm the next timer. */
  run(): void {
    const now = Date.now()
    const deliveryTimeout = this.options.deliveryTimeoutMs
    for (const b of this.acc.expire((batch) => now - batch.createdAt >= deliveryTimeout)) {
      this.fail(b, deliveryTimeoutError(b, deliveryTimeout, null))
    }
    for (const b of this.inFlight.batches) {
      if (now - b.createdAt >= deliveryTimeout) this.settleAll(b, null, deliveryTimeoutError(b, deliveryTimeout, null))
    }
    if (this.fencedError !== null) {
      this.failQueued(this.fencedError)
      return
    }
    if (this.resetReason !== null || this.resetting) return

    const force = this.forced > 0 || this.pool.exhausted
    const drained = this.acc.drain(now, force, (topic, partition, head) => this.mayGo(topic, partition, head, true))
    if (drained.length > 0) this.dispatchAll(drained, now)
    if (this.resetReason !== null) {
      this.maybeReset()
      return
    }
    this.armTimer(now)
  }

  private get sequences(): PartitionSequences | null {
    return this.engine.sequences ?? null
  }

  /**
   * May a partition's head batch go now: a free request slot on its leader and, with idempotence, its
   * turn in the partition's sequence. A lost sequence asks for a new producer id when `act`.
   */
  private mayGo(topic: string, partition: number, head: OutboundBatch, act: boolean): boolean {
    const max = this.options.maxInFlightRequests
    if (this.resolver.holds(topic, partition)) return false
    const broker = this.engine.leaderOf(topic, partition)
    if (this.inFlight.to(broker) >= max) return false
    const seq = this.sequences
    if (seq === null) return true
    const verdict = seq.mayDrain(head, broker, max)
    if (verdict === 'reset' && act) this.resetReason ??= `the sequence of ${topic}[${partition}] is unknown after a batch was given up`
    return verdict === 'send'
  }

  private positionOf = (b: OutboundBatch): number | null => this.sequences?.position(b) ?? null

  private dispatchAll(drained: OutboundBatch[], now: number): void {
    const perBroker = new Map<number, OutboundBatch[]>()
    for (const b of drained) {
      const broker = this.engine.leaderOf(b.topic, b.partition)
      let list = perBroker.get(broker)
      if (list === undefined) perBroker.set(broker, (list = []))
      list.push(b)
    }
    const limitBytes = this.options.maxRequestSize
    for (const [broker, batches] of perBroker) {
      let i = 0
      while (i < batches.length && this.inFlight.to(broker) < this.options.maxInFlightRequests) {
        const { request, next, bytes, records } = nextRequest(batches, i, limitBytes, (b) => this.isolated.has(b))
        i = next
        this.dispatch(broker, request, bytes, records, now)
      }
      // No free request slot for the rest: back to the head of their partitions (one unit per partition per pass).
      for (; i < batches.length; i++) this.acc.requeue(batches[i] as OutboundBatch, 0, this.positionOf)
    }
  }

  private dispatch(broker: number, batches: OutboundBatch[], bytes: number, records: number, startedAt: number): void {
    this.inFlight.started(broker, batches)
    const seq = this.sequences
    for (const b of batches) {
      // Sequences are taken here, in drain order, before the engine encodes the batch.
      seq?.dispatched(b, broker)
      b.sent = true
      this.metrics.dispatched(startedAt - b.createdAt)
    }
    const engine = this.engine
    let promise: Promise<PartitionAck[]>
    try {
      promise = engine.produce(batches)
    } catch (err) {
      promise = Promise.reject(err)
    }
    promise.then(
      (acks) => {
        const durationMs = Date.now() - startedAt
        this.metrics.request(durationMs, records)
        this.done(broker, batches)
        this.acked(batches, acks)
        this.hooks.onRequest?.({ broker, batches: batches.length, records, bytes, durationMs })
        this.afterRequest()
      },
      (err: unknown) => {
        const durationMs = Date.now() - startedAt
        this.metrics.request(durationMs, records)
        this.done(broker, batches)
        const results = engine.partitionResults?.(err) ?? null
        if (results !== null && this.partlyFailed(batches, results, (error) => this.hooks.onRequest?.({ broker, batches: batches.length, records, bytes, durationMs, error }))) {
          this.afterRequest()
          return
        }
        const failure = engine.classify(err, batches)
        this.hooks.onRequest?.({ broker, batches: batches.length, records, bytes, durationMs, error: failure.error })
        this.failed(batches, failure, false)
        this.afterRequest()
      },
    )
  }

  private done(broker: number, batches: OutboundBatch[]): void {
    this.inFlight.ended(broker, batches)
    const seq = this.sequences
    if (seq === null) return
    for (const b of batches) {
      seq.returned(b)
      this.resolver.returned(b, seq)
    }
  }

  private afterRequest(): void {
    if (this.resetReason === null && this.sequences?.resetNeeded === true) this.resetReason = 'a partition\'s sequence is unknown after a batch was given up'
    if (this.maybeReset()) return
    this.inFlight.notify()
    this.wake()
  }

  /** Starts the pending reset once no request is in flight; true when it started. It counts as one meanwhile. */
  private maybeReset(): boolean {
    if (!this.inFlight.idle || this.resetReason === null || this.resetting) return false
    const reason = this.resetReason
    this.resetting = true
    this.resetReason = null
    this.hooks.onReset?.(reason)
    this.metrics.reset()
    const release = this.inFlight.hold()
    // A failed reset is reported by the next produce attempt, through the usual error path.
    void this.engine.reset(reason).catch(() => undefined).finally(() => {
      this.resetting = false
      release()
      this.inFlight.notify()
      this.wake()
    })
    return true
  }

  private acked(batches: OutboundBatch[], acks: PartitionAck[]): void {
    const byPartition = new Map<string, PartitionAck>()
    for (const a of acks) byPartition.set(`${a.topic}\u0000${a.partition}`, a)
    for (const b of batches) {
      this.acc.complete(b)
      const ack = byPartition.get(`${b.topic}\u0000${b.partition}`)
      if (ack === undefined && !this.options.acksZero) {
        this.fail(b, new KafkatuneError('KAFKA', `The broker answered without a result for ${b.topic}[${b.partition}]`, { retriable: false, details: { topic: b.topic, partition: b.partition } }))
        continue
      }
      settleWrittenBatch(b, ack === undefined ? -1 : ack.baseOffset, ack !== undefined && ack.logAppendTime !== '-1' ? ack.logAppendTime : null, this.sequences, this.metrics)
    }
  }

  /**
   * A request some partitions accepted and others refused: ack the accepted batches, handle each refused
   * group by its own error (a refused batch was not written, so retrying it alone writes it once).
   * Returns false, touching nothing, when the answers do not cover every batch of the request.
   */
  private partlyFailed(batches: OutboundBatch[], results: readonly PartitionAckResult[], report: (error: KafkatuneError) => void): boolean {
    const split = splitResults(batches, results)
    if (split === null) return false
    const { accepted, refused } = split
    this.acked(accepted, results.filter((r) => r.error === null))
    let first: KafkatuneError | null = null
    for (const [error, group] of refused) {
      const failure = this.engine.classify(error, group)
      first ??= failure.error
      if (failure.kind === 'isolate') {
        // The refused partitions are known: fail them, nothing to find out by resending one by one.
        for (const b of group) this.fail(b, failure.error, true)
      } else {
        this.failed(group, failure, true)
      }
    }
    if (first !== null) report(first)
    return true
  }

  /**
   * Handles a failed request's batches by `failure.kind`. `refused`: the broker answered with an error
   * for each of them, so none was written (a failed request as a whole may have been).
   */
  private failed(batches: OutboundBatch[], failure: SendFailure, refused: boolean): void {
    const seq = this.sequences
    if (!refused && seq !== null) for (const b of batches) seq.uncertain(b)
    if (failure.outOfOrder === true && seq !== null && failure.kind !== 'retriable') {
      // A batch that reached the broker before the one it follows (being retried) is expected to be
      // refused: it waits for its predecessor and goes again, as in the Java client. So does one renumbered
      // while on the wire (a batch before it was refused for good in a transaction).
      const behind = batches.filter((b) => seq.hasUnresolvedBefore(b) || seq.renumberedSinceSent(b))
      if (behind.length > 0) {
        this.failed(behind, { ...failure, kind: 'retriable' }, refused)
        batches = batches.filter((b) => !behind.includes(b))
        if (batches.length === 0) return
      }
    }
    switch (failure.kind) {
      case 'fenced':
        this.fencedError = failure.error
        for (const b of batches) this.fail(b, failure.error, refused)
        this.failQueued(failure.error)
        this.hooks.onFenced?.(failure.error)
        return
      case 'fatal':
        for (const b of batches) this.fail(b, failure.error, refused)
        return
      case 'isolate':
        if (batches.length === 1) {
          this.fail(batches[0] as OutboundBatch, failure.error, refused)
          return
        }
        for (const b of batches) {
          this.isolated.add(b)
          this.acc.requeue(b, 0, this.positionOf)
        }
        return
      case 'reset':
      case 'retriable': {
        if (failure.kind === 'reset' && failure.outOfOrder === true && seq !== null && this.engine.lastSequence !== undefined) {
          // Each partition whose refused batch is the resend of an unanswered one asks its leader on its own.
          const askable = batches.filter((b) => seq.uncertainHead(b))
          for (const b of askable) this.resolveSequence(b, failure)
          if (askable.length === batches.length) return
          batches = batches.filter((b) => !askable.includes(b))
        }
        if (failure.kind === 'reset') {
          this.resetReason = failure.error.message
          // Refused for its identity or sequence: under the new producer id it takes a new sequence.
          for (const b of batches) seq?.rewrite(b)
        } else if (failure.outOfOrder !== true) this.engine.staleMetadata([...new Set(batches.map((b) => b.topic))])
        for (const b of batches) {
          const at = retryAt(b, failure, Date.now(), this.options, seq)
          if (at instanceof KafkatuneError) this.fail(b, at, refused)
          else {
            this.metrics.retried(b.topic, b.records.length)
            this.acc.requeue(b, at, this.positionOf)
          }
        }
        return
      }
    }
  }

  /**
   * OUT_OF_ORDER_SEQUENCE_NUMBER for a resend of an unanswered batch: the leader is asked what it holds before
   * any reset (`resolve-sequence.ts`), once the partition's later batches on the wire have their answers. The
   * partition waits; counted in flight, so no reset starts meanwhile.
   */
  private resolveSequence(b: OutboundBatch, failure: SendFailure): void {
    const seq = this.sequences as PartitionSequences
    b.attempts++
    this.acc.requeue(b, null, this.positionOf)
    const release = this.inFlight.hold()
    const engine = this.engine
    const lastSequence = (topic: string, partition: number): Promise<number | null> => (engine.lastSequence as NonNullable<SenderEngine['lastSequence']>).call(engine, topic, partition)
    void this.resolver.resolve(b, seq, lastSequence).then((resolved) => {
      release()
      if (!resolved) {
        this.resetReason ??= failure.error.message
        seq.rewrite(b)
      }
      this.afterRequest()
    })
  }

  /**
   * `b` failed for good. Unless `refused` (the broker answered it with an error), it may have been
   * written: with idempotence its partition's sequence is unknown from there (`sequences.ts`).
   */
  private fail(b: OutboundBatch, error: KafkatuneError, refused = false): void {
    this.sequences?.givenUp(b, refused)
    this.acc.complete(b)
    this.settleAll(b, null, error)
  }

  private settleAll(b: OutboundBatch, md: RecordMetadata | null, error: KafkatuneError): void {
    let settled = 0
    for (const r of b.records) if (r.settle(md, error)) settled++
    if (settled > 0) this.hooks.onFailure?.(b, error, settled)
  }

  private armTimer(now: number): void {
    const next = nextDue(this.acc, this.inFlight.batches, now, this.options.deliveryTimeoutMs, (topic, partition, head) => this.mayGo(topic, partition, head, false))
    if (next !== null) this.wakeAt(Math.max(next, now + 1))
  }
}
