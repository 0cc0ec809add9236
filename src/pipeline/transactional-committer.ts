/**
 * The pipeline's offset committer: the outputs staged for an input partition and the partition's next
 * offset go out together. With exactly-once that is one transaction on the partition's producer
 * (`tx.send` + `tx.sendOffsets`); otherwise the outputs are written, then the offset is committed to the
 * group. It implements the same `OffsetCommitter` the batch loop drives the consumer's `GroupCommitter` with.
 *
 * A transaction that fails is never half-counted: the partition's uncommitted progress is dropped and the
 * partition is read again from its first uncommitted record (`rewind`), or, when its transaction may have
 * committed after all, the group's committed offset (read after a new producer id settled it) says which.
 */
import type { Logger } from '../logging/types.js'
import type { CommitFn, OffsetCommitter } from '../consumer/committer.js'
import { partitionKey } from '../consumer/offsets.js'
import type { OffsetTracker, TopicPartitionOffset } from '../consumer/offsets.js'
import { KafkatuneError } from '../errors.js'
import { isFenced, isRetriable } from '../kafkajs/errors.js'
import { backoffMs } from '../util/backoff.js'
import type { PoolPartition, ProducerPool } from './producer-pool.js'
import type { StagedOutputs } from './staged.js'
import { inTransactionSpan } from './tracing.js'

/** Transaction attempts of one commit before the partition is read again instead. */
const MAX_TX_ATTEMPTS = 8

/** Counters the committer moves (the transaction side of `PipelineMetrics`). */
export interface CommitterMetrics {
  /** Input records whose offsets were committed. */
  inputRecords: number
  /** Output records written in committed transactions (or before the group commit without exactly-once). */
  outputRecords: number
  transactionsCommitted: number
  transactionsAborted: number
  fencedProducers: number
  /**
   * Transactions and producer requests retried after a transient error (e.g. CONCURRENT_TRANSACTIONS right
   * after a commit, retried by the producer; a whole transaction retried by the pipeline).
   */
  transactionRetries: number
}

export interface TransactionalCommitterHost {
  /** False once the pipeline stopped on an error: nothing more is committed. */
  committing(): boolean
  /** The pipeline is stopping: no more retries. */
  stopping(): boolean
  /** The partition is being read again: its progress is stale and not committed. */
  rewinding(topic: string, partition: number): boolean
  /** Reads the partition again from `offset`; its running batch stops. */
  rewind(topic: string, partition: number, offset: string): void
  /** The group's committed offset of a partition (undefined: none, or unknown). */
  committedOffset(topic: string, partition: number): Promise<string | undefined>
  /** Stops the pipeline (an error retrying cannot fix). */
  fail(err: KafkatuneError): void
}

export interface TransactionalCommitterOptions<K, V> {
  tracker: OffsetTracker
  staged: StagedOutputs<K, V>
  pool: ProducerPool<K, V>
  groupId: string
  /** For the transaction spans. */
  clientId: string
  exactlyOnce: boolean
  retryBackoffMs: number
  retryBackoffMaxMs: number
  metrics: CommitterMetrics
  log: Logger
  host: TransactionalCommitterHost
  /** Group commits before a batch provided its own commit path (without exactly-once). */
  fallback: CommitFn
}

/** The previous owner of the partition committed past the records this member was about to commit. */
class AlreadyCommitted extends Error {
  constructor(readonly committed: string) {
    super(`already committed up to ${committed}`)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class TransactionalCommitter<K, V> implements OffsetCommitter {
  readonly #chains = new Map<string, Promise<void>>()
  /** The next offset this member last committed per partition: records below it are done, whatever a stale offset read says. */
  readonly #committedByUs = new Map<string, bigint>()
  #direct: CommitFn | null = null

  constructor(private readonly o: TransactionalCommitterOptions<K, V>) {}

  /** After a rejoin: the first transaction of every producer checks the group's committed offset again. */
  recheckAll(): void {
    this.o.pool.markFresh()
  }

  /**
   * Closes the producers of partitions a rebalance moved to another member, each after the transaction in
   * flight on it committed or aborted (never mid-commit). The caller marked the partitions rewound first, so
   * no transaction of theirs starts or retries after that; a partition `owned` again by the time its turn
   * comes keeps its producer.
   */
  release(partitions: readonly PoolPartition[], owned: (topic: string, partition: number) => boolean): Promise<void> {
    const drops = partitions.map(({ topic, partition }) =>
      this.#chain(partitionKey(topic, partition), async () => {
        if (!owned(topic, partition)) await this.o.pool.drop(topic, partition)
      }),
    )
    return Promise.all(drops).then(() => undefined)
  }

  /** Resolves once every commit and producer release started so far is over. */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()])
  }

  useDirect(commit: CommitFn | null): void {
    this.#direct = commit
  }

  /** Commits every partition with finished records, each in its own transaction; partitions do not wait for each other. */
  commitPending(commit?: CommitFn, only?: ReadonlySet<string>): Promise<void> {
    if (!this.o.host.committing()) return Promise.resolve()
    const group = commit ?? ((offsets: TopicPartitionOffset[]) => (this.#direct ?? this.o.fallback)(offsets))
    const runs = this.o.tracker
      .pending()
      .filter((p) => only === undefined || only.has(partitionKey(p.topic, p.partition)))
      .map((p) => this.#chain(partitionKey(p.topic, p.partition), () => this.#commitPartition(p.topic, p.partition, group)))
    return Promise.all(runs).then(() => undefined)
  }

  commitSoon(commit?: CommitFn): void {
    this.commitPending(commit).catch((err: unknown) => this.o.log.debug({ err }, 'commit failed; the partition is read again'))
  }

  /** Commits of one partition never overlap (each reads what is pending when it starts). */
  #chain(key: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.#chains.get(key) ?? Promise.resolve()).then(fn)
    const tail = run.catch(() => undefined)
    this.#chains.set(key, tail)
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key)
    })
    return run
  }

  async #commitPartition(topic: string, partition: number, group: CommitFn): Promise<void> {
    if (!this.o.host.committing()) return
    const key = partitionKey(topic, partition)
    const pending = this.o.tracker.pending().find((p) => partitionKey(p.topic, p.partition) === key)
    if (pending === undefined || this.o.host.rewinding(topic, partition)) return
    if (this.o.exactlyOnce) await this.#transaction(pending)
    else await this.#atLeastOnce(pending, group)
  }

  #done(p: TopicPartitionOffset, inputs: number, outputs: number): void {
    const key = partitionKey(p.topic, p.partition)
    const next = BigInt(p.offset)
    if ((this.#committedByUs.get(key) ?? -1n) < next) this.#committedByUs.set(key, next)
    this.o.tracker.committed([p])
    this.o.staged.committed(p.topic, p.partition, p.offset)
    this.o.metrics.inputRecords += inputs
    this.o.metrics.outputRecords += outputs
  }

  /** Drops the partition's uncommitted progress and reads it again from `offset` (or its first uncommitted record). */
  #rewind(topic: string, partition: number, offset?: string): void {
    const from = offset ?? this.o.staged.first(topic, partition)
    this.o.tracker.forget(topic, partition)
    this.o.staged.forget(topic, partition)
    if (from !== undefined) this.o.host.rewind(topic, partition, from)
  }

  async #transaction(p: TopicPartitionOffset): Promise<void> {
    const { topic, partition, offset: next } = p
    const { records, inputs, inputHeaders } = this.o.staged.upTo(topic, partition, next)
    const first = this.o.staged.first(topic, partition)
    const span = { groupId: this.o.groupId, clientId: this.o.clientId, topic, partition, inputs: inputHeaders, outputs: records.length }
    const m = this.o.metrics
    // Kafka may hand back records this member committed itself (a rejoin reads the committed offsets without
    // waiting for a transaction just committed, as kafkajs has no KIP-447 require_stable): they are done.
    const ours = this.#committedByUs.get(partitionKey(topic, partition))
    if (ours !== undefined && first !== undefined && ours > BigInt(first)) {
      this.o.log.info({ topic, partition, from: first, committed: ours.toString() }, 'inputs already committed by this member: skipping them')
      this.#rewind(topic, partition, ours.toString())
      return
    }
    for (let attempt = 0; ; attempt++) {
      let pooled
      try {
        pooled = await this.o.pool.get(topic, partition)
        // Voided (revoked or read again) while the producer connected or the last attempt waited: not committed by this member.
        if (this.o.host.rewinding(topic, partition)) return
        const producer = pooled
        await inTransactionSpan(span, () => producer.producer.transaction(async (tx) => {
          if (producer.fresh) {
            // Initialising this producer (or the new producer id after a failure) fenced any earlier owner
            // and settled its last transaction: if that committed past these records, they are done.
            let committed: string | undefined
            try {
              committed = await this.o.host.committedOffset(topic, partition)
            } catch (err) {
              // Without the committed offset the transaction cannot tell whether these records are done: retry.
              throw new KafkatuneError('KAFKA', `Cannot read the committed offset of ${topic}[${partition}]`, { cause: err, retriable: true })
            }
            if (committed !== undefined && first !== undefined && BigInt(committed) > BigInt(first)) throw new AlreadyCommitted(committed)
          }
          await tx.sendOffsets({ consumerGroupId: this.o.groupId, offsets: [{ topic, partition, offset: next }] })
          // Queued now, flushed and checked by the transaction before it commits.
          for (const s of records) producer.send(s, (r) => tx.send(r)).catch(() => undefined)
        }))
        producer.fresh = false
        m.transactionsCommitted++
        this.#done(p, inputs, records.length)
        return
      } catch (err) {
        if (err instanceof AlreadyCommitted) {
          if (pooled !== undefined) pooled.fresh = false
          if (err.committed === next) {
            // The answer to our own commit was lost, but it happened.
            m.transactionsCommitted++
            this.#done(p, inputs, records.length)
            return
          }
          this.o.log.info({ topic, partition, from: first, committed: err.committed }, 'inputs already committed by the previous owner: skipping them')
          this.#rewind(topic, partition, err.committed)
          return
        }
        m.transactionsAborted++
        if (isFenced(err) || (err instanceof KafkatuneError && isFenced(err.cause))) {
          m.fencedProducers++
          this.o.log.warn({ topic, partition }, 'producer fenced: another member owns this partition now')
          await this.o.pool.drop(topic, partition)
          this.#rewind(topic, partition)
          return
        }
        // A commit whose answer was lost may have happened: the next attempt's new producer id settles it,
        // and the committed offset tells which (never abort-and-resend blindly).
        if (pooled !== undefined) pooled.fresh = true
        if (!isRetriable(err)) {
          this.#rewind(topic, partition)
          this.o.host.fail(err instanceof KafkatuneError ? err : new KafkatuneError('KAFKA', `transaction of ${topic}[${partition}] failed`, { cause: err, retriable: false }))
          return
        }
        if (attempt + 1 >= MAX_TX_ATTEMPTS || this.o.host.stopping() || !this.o.host.committing()) {
          this.o.log.warn({ topic, partition, err }, 'transaction still failing: the partition is read again from its last commit')
          await this.o.pool.drop(topic, partition)
          this.#rewind(topic, partition)
          return
        }
        if (this.o.host.rewinding(topic, partition)) {
          // Revoked or read again meanwhile: these records are no longer this member's to commit.
          this.o.log.debug({ topic, partition, err }, 'transaction failed; its partition is revoked or read again: not retried')
          return
        }
        m.transactionRetries++
        this.o.log.debug({ topic, partition, attempt, err }, 'transaction failed, retrying')
        await sleep(backoffMs(attempt + 1, { baseMs: this.o.retryBackoffMs, maxMs: this.o.retryBackoffMaxMs }))
      }
    }
  }

  /** Without exactly-once: outputs first, then the group commit (a crash in between repeats outputs, never loses them). */
  async #atLeastOnce(p: TopicPartitionOffset, group: CommitFn): Promise<void> {
    const { topic, partition, offset: next } = p
    const { records, inputs } = this.o.staged.upTo(topic, partition, next)
    try {
      const pooled = await this.o.pool.get(topic, partition)
      await Promise.all(records.map((s) => pooled.send(s, (r) => pooled.producer.send(r))))
    } catch (err) {
      if (!isRetriable(err)) this.o.host.fail(err instanceof KafkatuneError ? err : new KafkatuneError('KAFKA', `writing the outputs of ${topic}[${partition}] failed`, { cause: err, retriable: false }))
      else this.o.log.warn({ topic, partition, err }, 'writing outputs failed: the partition is read again from its last commit')
      this.#rewind(topic, partition)
      return
    }
    this.o.staged.committed(topic, partition, next)
    this.o.metrics.inputRecords += inputs
    this.o.metrics.outputRecords += records.length
    try {
      await group([p])
      this.o.tracker.committed([p])
    } catch (err) {
      // The outputs are out; the next commit carries this offset.
      this.o.log.debug({ err, topic, partition }, 'offset commit failed; the next one retries')
    }
  }
}
