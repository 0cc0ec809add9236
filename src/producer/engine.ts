/**
 * The producer's Kafka seam. kafkajs keeps the control plane (connections, metadata, producer ids,
 * transaction requests: `src/kafkajs/`); kafkatune owns the data plane: each drained batch is encoded
 * once as a RecordBatch v2 (`src/protocol/`, sequence numbers from `BatchEncoding`) and sent in
 * kafkatune's own Produce request through kafkajs's connection to the partition leader.
 */
import type { Admin, Kafka } from 'kafkajs'
import { recordsCodecs } from '../codecs/index.js'
import type { ProducerSettings } from '../config/index.js'
import { guardConnect } from '../kafkajs/client.js'
import { KafkatuneError } from '../errors.js'
import { clientLogger } from '../logging/fields.js'
import { kafkajsErrorFromCode } from '../kafkajs/internals.js'
import type { ProduceResult } from '../kafkajs/produce.js'
import { ProducerPlane } from '../kafkajs/producer-plane.js'
import type { ProducePartitionData, ProduceTopicData } from '../protocol/produce.js'
import { BatchEncoding } from './batch-encoding.js'
import type { BatchBytes } from './batch-encoding.js'
import type { PartitionSequences } from './sequences.js'
import { FENCED_TYPES, TRANSIENT_TXN_TYPES, classifyProduceError, inspectKafkajsError, kafkaError } from './produce-errors.js'
import type { OutboundBatch, PartitionAck, PartitionAckResult, SendFailure, SenderEngine } from './sender.js'
import { backoffMs } from '../util/backoff.js'

export { classifyProduceError, inspectKafkajsError, kafkaError } from './produce-errors.js'

interface TopicMetadata {
  leaders: number[]
  available: number[]
  fetchedAt: number
}

const METADATA_MAX_AGE_MS = 300_000
/** LEADER_NOT_AVAILABLE: a retriable kafkajs error for a partition whose leader is unknown. */
const LEADER_NOT_AVAILABLE = 5
/** Every partition's answer of a failed request, kept on the error it failed with. */
const RESULTS = Symbol('kafkatune.produceResults')

/** The Kafka side of one kafkatune producer. */
export class KafkajsProducerEngine implements SenderEngine {
  private admin: Admin | null = null
  private readonly plane: ProducerPlane
  private readonly encoding: BatchEncoding
  private readonly metadata = new Map<string, TopicMetadata>()
  private readonly pendingMetadata = new Map<string, Promise<TopicMetadata>>()
  private readonly idempotent: boolean
  private readonly acks: -1 | 0 | 1
  private connected = false
  private txnOpen = false
  /** Resolves once the previous produce request was handed to its connection. */
  private issued: Promise<void> = Promise.resolve()

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ProducerSettings<unknown, unknown>,
    onSizes?: (uncompressedBytes: number, encodedBytes: number, topic: string) => void,
    /** Told each transaction request retried after a transient answer (for the producer's `retries` metric). */
    private readonly onTransientRetry?: () => void,
  ) {
    this.idempotent = settings.idempotent || settings.transactionalId !== null
    this.acks = settings.acks === 'all' ? -1 : settings.acks
    this.plane = new ProducerPlane(kafka, {
      idempotent: this.idempotent,
      transactionalId: settings.transactionalId,
      transactionTimeoutMs: settings.transactionTimeoutMs,
      addPartitionsDeadlineMs: Math.min(settings.deliveryTimeoutMs, settings.transactionTimeoutMs) / 2,
      retryBackoffMs: settings.retryBackoffMs,
      onRetry: (retry) => {
        this.onTransientRetry?.()
        clientLogger(settings.logger, 'producer', { clientId: settings.clientId }).debug({ ...retry, transactionalId: settings.transactionalId }, 'kafkatune: transaction request retried')
      },
    })
    this.encoding = new BatchEncoding({ compression: settings.compression, codecs: recordsCodecs, idempotent: this.idempotent, transactional: this.transactional, onSizes })
  }

  /** Sequence bookkeeping the sender drives (idempotent and transactional producers), else null. */
  get sequences(): PartitionSequences | null {
    return this.idempotent ? this.encoding.sequences : null
  }

  get transactional(): boolean {
    return this.settings.transactionalId !== null
  }

  get inTransaction(): boolean {
    return this.txnOpen
  }

  async connect(): Promise<void> {
    try {
      await guardConnect(
        this.kafka,
        async () => {
          this.admin = this.kafka.admin()
          await this.admin.connect()
          await this.plane.connect()
          if (this.idempotent && !this.transactional) await this.newProducerId()
        },
        () => Promise.allSettled([this.admin?.disconnect(), this.plane.disconnect()]),
      )
      this.connected = true
    } catch (err) {
      throw kafkaError(err, 'KAFKA', 'Could not connect the producer')
    }
  }

  async disconnect(): Promise<void> {
    this.connected = false
    const results = await Promise.allSettled([this.plane.disconnect(), this.admin?.disconnect()])
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw kafkaError(failed.reason, 'KAFKA', 'Could not disconnect the producer')
  }

  /** Partition count of a topic: synchronous from the cache, else a promise (waits up to maxBlockMs). */
  partitionCount(topic: string, now: number = Date.now()): number | Promise<number> {
    const cached = this.metadata.get(topic)
    if (cached !== undefined) {
      if (now - cached.fetchedAt > METADATA_MAX_AGE_MS) void this.loadMetadata(topic).catch(() => undefined)
      return cached.leaders.length
    }
    return this.loadMetadata(topic).then((m) => m.leaders.length)
  }

  /** Partitions of a topic that have a leader now (for the partitioners), undefined when unknown. */
  availablePartitions(topic: string): readonly number[] | undefined {
    return this.metadata.get(topic)?.available
  }

  leaderOf(topic: string, partition: number): number {
    return this.metadata.get(topic)?.leaders[partition] ?? -1
  }

  async lastSequence(topic: string, partition: number): Promise<number | null> {
    const nodeId = this.leaderOf(topic, partition)
    if (nodeId < 0) return null
    const { producerId, producerEpoch } = this.encoding.identity
    const answers = await this.plane.describeProducers(nodeId, topic, partition)
    const p = answers.find((a) => a.topic === topic && a.partition === partition)
    if (p === undefined || p.errorCode !== 0) return null
    return p.producers.find((x) => x.producerId === producerId && x.producerEpoch === producerEpoch)?.lastSequence ?? null
  }

  staleMetadata(topics: readonly string[]): void {
    for (const t of topics) void this.loadMetadata(t).catch(() => undefined)
  }

  async produce(batches: readonly OutboundBatch[]): Promise<PartitionAck[]> {
    const first = batches[0]
    if (first === undefined) return []
    const nodeId = this.leaderOf(first.topic, first.partition)
    if (nodeId < 0) throw kafkajsErrorFromCode(LEADER_NOT_AVAILABLE)
    // Encoded in dispatch order, synchronously: sequence numbers follow the order batches went out.
    const now = Date.now()
    const encoded = batches.map((b) => this.encoding.encode(b, now))
    // Requests leave in dispatch order even when one waits longer (compression, AddPartitionsToTxn):
    // a partition's later batch must not reach the broker before an earlier one it pipelines behind.
    const turn = this.issued
    let release!: () => void
    this.issued = new Promise<void>((r) => (release = r))
    try {
      return await this.produceInTurn(batches, encoded, nodeId, turn, release)
    } finally {
      release()
    }
  }

  private async produceInTurn(batches: readonly OutboundBatch[], encoded: BatchBytes[], nodeId: number, turn: Promise<void>, release: () => void): Promise<PartitionAck[]> {
    if (this.txnOpen) {
      const adding = this.plane.addPartitionsToTransaction(batches)
      if (adding !== null) await adding
    }
    const topics: ProduceTopicData[] = []
    const perTopic = new Map<string, ProducePartitionData[]>()
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i] as OutboundBatch
      const bytes = encoded[i] as BatchBytes
      let partitions = perTopic.get(b.topic)
      if (partitions === undefined) {
        perTopic.set(b.topic, (partitions = []))
        topics.push({ topic: b.topic, partitions })
      }
      partitions.push({ partition: b.partition, records: bytes instanceof Promise ? await bytes : bytes })
    }
    await turn
    const sent = this.plane.produce(nodeId, { transactionalId: this.settings.transactionalId, acks: this.acks, timeoutMs: this.settings.requestTimeoutMs, topics })
    release()
    const results = await sent
    if (this.acks === 0) return []
    return this.settle(results)
  }

  /**
   * Throws the first refusal with every answer attached (the sender settles each partition by its own).
   * DUPLICATE_SEQUENCE_NUMBER means the broker already holds that batch: a success whose offset is
   * unknown (-1), as in the Java client.
   */
  private settle(results: ProduceResult[]): PartitionAck[] {
    let firstError: Error | null = null
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as ProduceResult
      if (r.error === null) continue
      if (inspectKafkajsError(r.error).type === 'DUPLICATE_SEQUENCE_NUMBER') results[i] = { ...r, error: null, baseOffset: '-1', logAppendTime: '-1' }
      else firstError ??= r.error
    }
    if (firstError !== null) {
      Object.defineProperty(firstError, RESULTS, { value: results, enumerable: false })
      throw firstError
    }
    return results.map((r) => ({ topic: r.topic, partition: r.partition, baseOffset: r.baseOffset, logAppendTime: r.logAppendTime }))
  }

  classify(err: unknown, batches: readonly OutboundBatch[]): SendFailure {
    return classifyProduceError(err, this.transactional, batches)
  }

  /**
   * What the broker answered per partition when a request failed: the accepted batches are acked, only
   * the refused ones are retried or failed (a refused batch was not written).
   */
  partitionResults(err: unknown): PartitionAckResult[] | null {
    if (err === null || typeof err !== 'object') return null
    const results = (err as { [RESULTS]?: ProduceResult[] })[RESULTS]
    return results === undefined ? null : results.map((r) => ({ topic: r.topic, partition: r.partition, baseOffset: r.baseOffset, logAppendTime: r.logAppendTime, error: r.error }))
  }

  async reset(reason: string): Promise<void> {
    clientLogger(this.settings.logger, 'producer', { clientId: this.settings.clientId }).warn({ reason }, 'kafkatune: new producer id after a sequence or transaction failure')
    this.txnOpen = false
    this.plane.discardProducerId()
    if (this.idempotent && !this.transactional && this.connected) await this.newProducerId()
  }

  /**
   * The first record of a partition in the open transaction was appended: AddPartitionsToTxn goes out
   * now, while the batch lingers (the Java client's `maybeAddPartition`), and `produce()` finds it done.
   */
  partitionInTransaction(topic: string, partition: number): void {
    if (!this.txnOpen) return
    this.plane.addPartition(topic, partition)?.catch(() => undefined)
  }

  /** Begins a transaction; produce requests belong to it until `commit()`/`abort()`. */
  async begin(): Promise<void> {
    try {
      if (!this.plane.initialized) await this.newProducerId()
      this.plane.beginTransaction()
      this.txnOpen = true
    } catch (err) {
      throw this.transactionError(err, 'Could not begin the transaction')
    }
  }

  async sendOffsets(consumerGroupId: string, offsets: { topic: string; partition: number; offset: string | number }[]): Promise<void> {
    this.requireTxn()
    const topics = new Map<string, { partition: number; offset: string }[]>()
    for (const o of offsets) {
      let list = topics.get(o.topic)
      if (list === undefined) topics.set(o.topic, (list = []))
      list.push({ partition: o.partition, offset: String(o.offset) })
    }
    const payload = [...topics].map(([topic, partitions]) => ({ topic, partitions }))
    // kafkajs gets a single retry here (the sender owns produce retries), but AddOffsetsToTxn and
    // TxnOffsetCommit meet transient answers the Java client retries: CONCURRENT_TRANSACTIONS right
    // after a commit, a group coordinator still loading or moving. Both requests are safe to repeat.
    const deadline = Date.now() + Math.min(this.settings.transactionTimeoutMs, this.settings.deliveryTimeoutMs) / 2
    for (let attempt = 0; ; attempt++) {
      try {
        await this.plane.sendOffsets(consumerGroupId, payload)
        return
      } catch (err) {
        const info = inspectKafkajsError(err)
        const transient = info.type !== null && TRANSIENT_TXN_TYPES.has(info.type)
        if (!transient || (info.type !== null && FENCED_TYPES.has(info.type)) || Date.now() >= deadline || !this.plane.inTransaction) {
          throw this.transactionError(err, 'Could not add offsets to the transaction')
        }
        this.onTransientRetry?.()
        await new Promise((r) => setTimeout(r, backoffMs(Math.min(attempt, 10) + 1, { baseMs: this.settings.retryBackoffMs, maxMs: this.settings.retryBackoffMaxMs })))
      }
    }
  }

  async commit(): Promise<void> {
    this.requireTxn()
    try {
      await this.plane.commit()
    } catch (err) {
      throw this.transactionError(err, 'Could not commit the transaction')
    } finally {
      this.txnOpen = false
    }
  }

  async abort(): Promise<void> {
    const open = this.txnOpen
    this.txnOpen = false
    if (!open || !this.plane.inTransaction) return
    try {
      await this.plane.abort()
    } catch (err) {
      throw this.transactionError(err, 'Could not abort the transaction')
    }
  }

  /** FENCED for epoch/fencing errors, else KAFKA. */
  transactionError(err: unknown, context: string): KafkatuneError {
    if (err instanceof KafkatuneError) return err
    const info = inspectKafkajsError(err)
    if (info.type !== null && FENCED_TYPES.has(info.type)) {
      return new KafkatuneError('FENCED', `${context}: producer fenced, another producer with transactional.id '${this.settings.transactionalId}' took over (${info.type})`, {
        cause: err,
        retriable: false,
        details: { transactionalId: this.settings.transactionalId, kafkaError: info.type },
      })
    }
    return kafkaError(err, 'KAFKA', context, { transactionalId: this.settings.transactionalId })
  }

  private requireTxn(): void {
    if (!this.txnOpen) throw new KafkatuneError('TRANSACTION_ABORTED', 'No open transaction', { retriable: false })
  }

  private async newProducerId(): Promise<void> {
    const id = await this.plane.initProducerId()
    this.encoding.setIdentity(id.producerId, id.producerEpoch)
  }

  private loadMetadata(topic: string): Promise<TopicMetadata> {
    const pending = this.pendingMetadata.get(topic)
    if (pending !== undefined) return pending
    const p = this.fetchMetadata(topic).finally(() => this.pendingMetadata.delete(topic))
    this.pendingMetadata.set(topic, p)
    return p
  }

  private async fetchMetadata(topic: string): Promise<TopicMetadata> {
    const admin = this.admin
    if (admin === null) throw new KafkatuneError('NOT_CONNECTED', 'The producer is not connected: call connect() first')
    const deadline = Date.now() + this.settings.maxBlockMs
    let lastError: unknown
    let autoCreateTried = false
    for (let attempt = 0; ; attempt++) {
      try {
        const md = await admin.fetchTopicMetadata({ topics: [topic] })
        const partitions = md.topics[0]?.partitions ?? []
        if (partitions.length > 0) {
          const leaders: number[] = []
          for (const p of partitions) leaders[p.partitionId] = p.leader
          const all = Array.from(leaders, (l) => l ?? -1)
          const entry = { leaders: all, available: all.flatMap((l, i) => (l >= 0 ? [i] : [])), fetchedAt: Date.now() }
          this.metadata.set(topic, entry)
          return entry
        }
      } catch (err) {
        lastError = err
        // Let kafkajs's producer path request the topic with auto-creation (as the Java client's metadata does).
        if (!autoCreateTried && inspectKafkajsError(err).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
          autoCreateTried = true
          await this.plane.requestTopic(topic).catch(() => undefined)
        }
      }
      if (Date.now() >= deadline) {
        throw kafkaError(lastError ?? new Error('no partitions'), 'KAFKA', `Topic '${topic}' not present in metadata after maxBlockMs (${this.settings.maxBlockMs} ms)`, { topic })
      }
      await new Promise((r) => setTimeout(r, backoffMs(Math.min(attempt, 10) + 1, { baseMs: this.settings.retryBackoffMs, maxMs: this.settings.retryBackoffMaxMs })))
    }
  }
}
