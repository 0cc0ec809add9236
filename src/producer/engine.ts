/**
 * The producer's kafkajs seam: one kafkajs producer (recreated after fatal sequence/epoch errors), an
 * admin client for partition metadata, produce requests through `sendBatch`, transactions, and the
 * mapping of kafkajs errors to kafkatune errors and retry decisions.
 */
import type { Admin, Kafka, Message, Producer as KafkajsProducer, ProducerBatch, Transaction as KafkajsTransaction } from 'kafkajs'
import type { ProducerSettings } from '../config/index.js'
import { kafkajsSendOptions, toKafkajsProducerConfig } from '../config/index.js'
import { guardConnect } from '../client.js'
import { KafkatuneError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import { installPartitionResultsHook, partitionResultsOf } from './partition-results.js'
import type { FailureKind, OutboundBatch, PartitionAck, PartitionAckResult, SendFailure, SenderEngine } from './sender.js'

interface TopicMetadata {
  leaders: number[]
  available: number[]
  fetchedAt: number
}

const METADATA_MAX_AGE_MS = 300_000

const RESET_TYPES = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING'])
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'])
const RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
])
/** kafkajs knows error codes up to 88; PRODUCER_FENCED (90) arrives as an unknown code. */
const PRODUCER_FENCED_UNKNOWN = /Unknown error code 90\b/

/** What a kafkajs error boils down to: its protocol error type (if any), name, retriability, message. */
export interface KafkajsErrorInfo {
  type: string | null
  name: string
  retriable: boolean
  message: string
}

/** Transaction answers that mean "try again shortly", which kafkajs does not retry on its own. */
const TRANSIENT_TXN_TYPES = new Set([
  'CONCURRENT_TRANSACTIONS',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
])

/** Walks the kafkajs wrapper chain (retries exceeded, non-retriable wrappers) down to the real error. */
export function inspectKafkajsError(err: unknown): KafkajsErrorInfo {
  let e: unknown = err
  let info: KafkajsErrorInfo = { type: null, name: 'Error', retriable: false, message: String(err) }
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    const x = e as Error & { type?: unknown; retriable?: unknown; cause?: unknown; originalError?: unknown }
    info = {
      type: typeof x.type === 'string' ? x.type : info.type,
      name: x.name,
      retriable: x.retriable === true || RETRIABLE_NAMES.has(x.name),
      message: x.message,
    }
    if (PRODUCER_FENCED_UNKNOWN.test(x.message)) info.type = 'PRODUCER_FENCED'
    const next = x.cause ?? x.originalError
    if (next === undefined || next === e) break
    e = next
  }
  return info
}

/** Turns any kafkajs error into a `KafkatuneError` with the given code. */
export function kafkaError(err: unknown, code: ErrorCode, context: string, details: Record<string, unknown> = {}): KafkatuneError {
  if (err instanceof KafkatuneError) return err
  const info = inspectKafkajsError(err)
  return new KafkatuneError(code, `${context}: ${info.message}${info.type !== null ? ` (${info.type})` : ''}`, {
    cause: err,
    retriable: info.retriable,
    details: { ...details, kafkaError: info.type ?? info.name },
  })
}

/** Classifies a failed produce request (see `FailureKind`). */
export function classifyProduceError(err: unknown, transactional: boolean, batches: readonly OutboundBatch[]): SendFailure {
  if (err instanceof KafkatuneError) return { kind: err.code === 'FENCED' ? 'fenced' : 'fatal', error: err }
  const info = inspectKafkajsError(err)
  const where = batches.map((b) => `${b.topic}[${b.partition}]`).join(', ')
  const details = { partitions: where, kafkaError: info.type ?? info.name }
  const type = info.type ?? ''
  let kind: FailureKind
  let code: ErrorCode = 'KAFKA'
  if (transactional && FENCED_TYPES.has(type)) {
    kind = 'fenced'
    code = 'FENCED'
  } else if (!transactional && type === 'PRODUCER_FENCED') {
    kind = 'reset'
  } else if (RESET_TYPES.has(type)) {
    // Inside a transaction the producer cannot be swapped: the transaction fails and is reset after abort.
    kind = transactional ? 'fatal' : 'reset'
  } else if (TOO_LARGE_TYPES.has(type)) {
    kind = 'isolate'
    code = 'RECORD_TOO_LARGE'
  } else if (info.retriable) {
    kind = 'retriable'
  } else {
    kind = 'isolate'
  }
  const message =
    code === 'FENCED'
      ? `Producer fenced: another producer with transactional.id took over (${type}); this producer will not write again`
      : `Produce to ${where} failed: ${info.message}${type !== '' ? ` (${type})` : ''}`
  return { kind, error: new KafkatuneError(code, message, { cause: err, retriable: kind === 'retriable', details }) }
}

/**
 * kafkajs partitioner for messages that always carry their partition (kafkatune's partitioner chose it):
 * kafkajs's default one filters the partition metadata for every message before looking at it.
 */
const explicitPartition = (): ((args: { message: Message }) => number) => ({ message }) => message.partition as number

/** The kafkajs side of one kafkatune producer. */
export class KafkajsProducerEngine implements SenderEngine {
  private producer: KafkajsProducer
  private admin: Admin | null = null
  private txn: KafkajsTransaction | null = null
  private readonly metadata = new Map<string, TopicMetadata>()
  private readonly pendingMetadata = new Map<string, Promise<TopicMetadata>>()
  private readonly sendOptions: ReturnType<typeof kafkajsSendOptions>
  private connected = false
  private readonly partitionResultsHook: boolean

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ProducerSettings<unknown, unknown>,
  ) {
    this.sendOptions = kafkajsSendOptions(settings)
    this.producer = this.createProducer()
    this.partitionResultsHook = !settings.idempotent && installPartitionResultsHook()
  }

  get transactional(): boolean {
    return this.settings.transactionalId !== null
  }

  get inTransaction(): boolean {
    return this.txn !== null
  }

  async connect(): Promise<void> {
    try {
      await guardConnect(
        this.kafka,
        async () => {
          this.admin = this.kafka.admin()
          await this.admin.connect()
          await this.producer.connect()
        },
        () => Promise.allSettled([this.admin?.disconnect(), this.producer.disconnect()]),
      )
      this.connected = true
    } catch (err) {
      throw kafkaError(err, 'KAFKA', 'Could not connect the producer')
    }
  }

  async disconnect(): Promise<void> {
    this.connected = false
    const results = await Promise.allSettled([this.producer.disconnect(), this.admin?.disconnect()])
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

  staleMetadata(topics: readonly string[]): void {
    for (const t of topics) void this.loadMetadata(t).catch(() => undefined)
  }

  async produce(batches: readonly OutboundBatch[]): Promise<PartitionAck[]> {
    const perTopic = new Map<string, Message[]>()
    // Create time of records sent without one: the moment their batch is first dispatched (kept on retries).
    const nowMs = Date.now()
    const now = String(nowMs)
    for (const b of batches) {
      let messages = perTopic.get(b.topic)
      if (messages === undefined) perTopic.set(b.topic, (messages = []))
      for (const r of b.records) {
        // kafkajs subtracts every record's timestamp from the batch's first one: decimal strings are
        // parsed for each record, numbers are not (kafkajs accepts both; its typings say string). The
        // record keeps the string it reports (same value; a retry sends the string, also accepted).
        let timestamp: string | number = r.timestamp
        if (timestamp === '') {
          ;(r as { timestamp: string }).timestamp = now
          timestamp = nowMs
        }
        // Only the fields a record has: kafkajs spreads every message object while encoding.
        const m: Message = { value: r.value, partition: b.partition, timestamp: timestamp as string }
        if (r.key !== null) m.key = r.key
        if (r.headers !== undefined) m.headers = r.headers
        messages.push(m)
      }
    }
    const request: ProducerBatch = { ...this.sendOptions, topicMessages: [...perTopic].map(([topic, messages]) => ({ topic, messages })) }
    const target = this.txn ?? this.producer
    const results = await target.sendBatch(request)
    return results.map((r) => ({
      topic: r.topicName,
      partition: r.partition,
      baseOffset: r.baseOffset ?? r.offset ?? '-1',
      logAppendTime: r.logAppendTime ?? '-1',
    }))
  }

  classify(err: unknown, batches: readonly OutboundBatch[]): SendFailure {
    return classifyProduceError(err, this.transactional, batches)
  }

  /**
   * What the broker answered per partition when a request failed, for producers without idempotence
   * (null otherwise): an idempotent producer must resend the same batches, since kafkajs reuses their
   * sequence numbers and the broker drops the copies it already has.
   */
  partitionResults(err: unknown): PartitionAckResult[] | null {
    if (this.settings.idempotent || !this.partitionResultsHook) return null
    const results = partitionResultsOf(err)
    return results === null ? null : results.map((r) => ({ topic: r.topic, partition: r.partition, baseOffset: r.baseOffset, logAppendTime: r.logAppendTime, error: r.error }))
  }

  async reset(reason: string): Promise<void> {
    this.settings.logger.warn({ reason }, 'kafkatune: recreating the kafkajs producer')
    const old = this.producer
    this.txn = null
    this.producer = this.createProducer()
    await old.disconnect().catch(() => undefined)
    if (this.connected) await this.producer.connect()
  }

  /** Begins a transaction; produce requests go through it until `commit()`/`abort()`. */
  async begin(): Promise<void> {
    try {
      this.txn = await this.producer.transaction()
    } catch (err) {
      throw this.transactionError(err, 'Could not begin the transaction')
    }
  }

  async sendOffsets(consumerGroupId: string, offsets: { topic: string; partition: number; offset: string | number }[]): Promise<void> {
    const txn = this.requireTxn()
    const topics = new Map<string, { partition: number; offset: string }[]>()
    for (const o of offsets) {
      let list = topics.get(o.topic)
      if (list === undefined) topics.set(o.topic, (list = []))
      list.push({ partition: o.partition, offset: String(o.offset) })
    }
    const payload = { consumerGroupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) }
    // kafkajs gets a single retry here (the sender owns produce retries), but AddOffsetsToTxn and
    // TxnOffsetCommit meet transient answers the Java client retries: CONCURRENT_TRANSACTIONS right
    // after a commit, a group coordinator still loading or moving. Both requests are safe to repeat.
    const deadline = Date.now() + Math.min(this.settings.transactionTimeoutMs, this.settings.deliveryTimeoutMs) / 2
    for (let attempt = 0; ; attempt++) {
      try {
        await txn.sendOffsets(payload)
        return
      } catch (err) {
        const info = inspectKafkajsError(err)
        const transient = info.type !== null && TRANSIENT_TXN_TYPES.has(info.type)
        if (!transient || (info.type !== null && FENCED_TYPES.has(info.type)) || Date.now() >= deadline || !txn.isActive()) {
          throw this.transactionError(err, 'Could not add offsets to the transaction')
        }
        await new Promise((r) => setTimeout(r, Math.min(this.settings.retryBackoffMaxMs, this.settings.retryBackoffMs * 2 ** Math.min(attempt, 10))))
      }
    }
  }

  async commit(): Promise<void> {
    const txn = this.requireTxn()
    try {
      await txn.commit()
    } catch (err) {
      throw this.transactionError(err, 'Could not commit the transaction')
    } finally {
      this.txn = null
    }
  }

  async abort(): Promise<void> {
    const txn = this.txn
    this.txn = null
    if (txn === null || !txn.isActive()) return
    try {
      await txn.abort()
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

  private requireTxn(): KafkajsTransaction {
    if (this.txn === null) throw new KafkatuneError('TRANSACTION_ABORTED', 'No open transaction', { retriable: false })
    return this.txn
  }

  private createProducer(): KafkajsProducer {
    const base = toKafkajsProducerConfig(this.settings)
    const idempotent = base.idempotent === true || this.transactional
    return this.kafka.producer({
      ...base,
      createPartitioner: explicitPartition,
      idempotent,
      // kafkatune's sender owns retries (backoff, delivery timeout, ordering); kafkajs refuses an
      // idempotent producer without at least one retry of its own, and that one resends the same batches.
      retry: { retries: idempotent ? 1 : 0, initialRetryTime: this.settings.retryBackoffMs, maxRetryTime: this.settings.retryBackoffMaxMs },
    })
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
          await this.producer.sendBatch({ ...this.sendOptions, topicMessages: [{ topic, messages: [] }] }).catch(() => undefined)
        }
      }
      if (Date.now() >= deadline) {
        throw kafkaError(lastError ?? new Error('no partitions'), 'KAFKA', `Topic '${topic}' not present in metadata after maxBlockMs (${this.settings.maxBlockMs} ms)`, { topic })
      }
      await new Promise((r) => setTimeout(r, Math.min(this.settings.retryBackoffMaxMs, this.settings.retryBackoffMs * 2 ** Math.min(attempt, 10))))
    }
  }
}
