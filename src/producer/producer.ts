/**
 * `createProducer`: wires settings, serializers, the partitioner, the accumulator, the buffer pool,
 * the sender and the kafkajs engine into the plain object users program against.
 */
import { createKafkaClient } from '../client.js'
import { getCodec } from '../codecs/index.js'
import { resolveProducerConfig } from '../config/index.js'
import type { ProducerOptions, ProducerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { clientLogger } from '../logging/fields.js'
import { createPartitioner } from '../partitioners/index.js'
import { withMetricsSources } from '../observability/metrics-source.js'
import { observeProduceThrottle } from '../kafkajs/produce.js'
import { activeTracer } from '../observability/tracing.js'
import { startSendSpan } from '../observability/tracing-producer.js'
import { Listeners } from '../util/listeners.js'
import { RecordAccumulator } from './accumulator.js'
import { BufferPool } from './buffer-pool.js'
import { producerHealth } from './health.js'
import { partitionChooser } from './choose-partition.js'
import { KafkajsProducerEngine } from './engine.js'
import { prepareHeaders } from './headers.js'
import { ProducerMetricsRecorder } from './metrics.js'
import { Sender } from './sender.js'
import type { OutboundRecord } from './sender-types.js'
import type { Batch } from './accumulator.js'
import { PendingSend } from './pending-send.js'
import type { PendingHost } from './pending-send.js'
import { OwnPromise, SettleGroup } from './record-promises.js'
import { sendTimestamp, serializeRecordPart, storeSerialized } from './serialize-record.js'
import { TransactionRunner } from './transaction.js'
import type { TransactionToken } from './transaction.js'
import type { Producer, ProducerEvents, ProducerRecord, RecordMetadata } from './types.js'

/**
 * Most bytes of one partition merged into one request (unless batchSize is larger): lingering batches
 * of one partition go out together, but one partition does not fill a whole request on its own.
 */
const MAX_BYTES_PER_PARTITION_REQUEST = 256 * 1024

/** No record-count cap on a batch: kafkatune encodes batches itself (kafkajs's grouping was quadratic). */
const MAX_RECORDS_PER_PARTITION_REQUEST = Number.MAX_SAFE_INTEGER

/** A send() until its record is appended: the partitioner's inputs, captured when send() was called. */
interface Admission<K, V> {
  readonly a: PendingSend
  readonly topic: string
  /** An explicit partition from send(). */
  readonly partition: number | undefined
  readonly key: K | null
  readonly value: V
  /** Pending async serialization, when a serializer returned a promise. */
  preparing: Promise<void> | null
}

interface FlushWaiter {
  barrier: number
  remaining: number
  resolve: () => void
}

/**
 * Creates a producer: `send()` batches records per partition (linger/batch/buffer semantics of the Java client).
 * @example
 * const producer = createProducer({ brokers: ['127.0.0.1:9092'], preset: 'high-throughput' })
 * await producer.connect()
 * await producer.send({ topic: 'orders', key: 'o-1', value: 'created' })
 */
export function createProducer<K = string, V = string>(options: ProducerOptions<K, V>): Producer<K, V> {
  return createProducerFromSettings(resolveProducerConfig(options))
}

/** Creates a producer from already resolved settings (used by the pipeline). */
export function createProducerFromSettings<K, V>(settings: ProducerSettings<K, V>): Producer<K, V> {
  // The producer's codec loads now (the others only if something meets them): a package that does not load
  // fails here with CONFIG_INVALID naming it, not every batch later.
  if (settings.compression !== 'none') getCodec(settings.compression)
  const logger = clientLogger(settings.logger, 'producer', { clientId: settings.clientId })
  const kafka = createKafkaClient(settings)
  const metrics = new ProducerMetricsRecorder(Date.now, settings.clientId)
  const engine = new KafkajsProducerEngine(kafka, settings as ProducerSettings<unknown, unknown>, (raw, wire, topic) => metrics.encoded(raw, wire, topic), () => metrics.retried())
  observeProduceThrottle(kafka, (ms) => metrics.throttled(ms))
  const partitioner = createPartitioner<K, V>(settings.partitioner, { batchSize: settings.batchSize })
  const pool = new BufferPool(settings.bufferMemory, settings.maxBlockMs)
  const listeners = new Listeners<ProducerEvents>((err, event) => logger.error({ err, event }, 'kafkatune: a producer event listener threw'))
  const emit = <E extends keyof ProducerEvents>(event: E, payload: ProducerEvents[E]): void => listeners.emit(event, payload)

  const acc = new RecordAccumulator<OutboundRecord>({
    batchSize: settings.batchSize,
    lingerMs: settings.lingerMs,
    maxDrainBytes: Math.min(settings.maxRequestSize, Math.max(settings.batchSize, MAX_BYTES_PER_PARTITION_REQUEST)),
    maxDrainRecords: MAX_RECORDS_PER_PARTITION_REQUEST,
    // Idempotence: up to maxInFlightRequests (<= 5) batches of a partition in flight, order kept across
    // retries by the sender's sequence gate (sequences.ts). Without it, one, so a retry cannot reorder.
    maxInFlightPerPartition: settings.idempotent || settings.transactionalId !== null ? settings.maxInFlightRequests : 1,
    onBatchClosed: partitioner.onBatchClosed === undefined ? undefined : (t, p) => partitioner.onBatchClosed?.(t, p),
  })
  const sender = new Sender(acc, pool, engine, metrics, {
    maxInFlightRequests: settings.maxInFlightRequests,
    maxRequestSize: settings.maxRequestSize,
    retries: settings.retries,
    retryBackoffMs: settings.retryBackoffMs,
    retryBackoffMaxMs: settings.retryBackoffMaxMs,
    deliveryTimeoutMs: settings.deliveryTimeoutMs,
    acksZero: settings.acks === 0,
  }, {
    onRequest: (info) => {
      lastRequestError = info.error ?? null
      emit('producer.request', info)
    },
    onFailure: (batch, error, records) => {
      metrics.failedInTopic(batch.topic, records)
      logger.error({ err: error, topic: batch.topic, partition: batch.partition, records }, `kafkatune: ${records} record(s) failed: ${error.message}`)
      emit('producer.error', { error, topic: batch.topic, partition: batch.partition, records })
    },
    onReset: (reason) => emit('producer.reset', { reason }),
    onSequenceResolved: (topic, partition, records) => {
      logger.info({ topic, partition, records }, `kafkatune: the broker already held ${records} record(s) of ${topic}[${partition}] whose requests went unanswered; they are not written again`)
    },
    onFenced: (error) => {
      fencedError ??= error
    },
  })

  let state: 'new' | 'connecting' | 'connected' | 'closing' | 'closed' = 'new'
  let fencedError: KafkatuneError | null = null
  let lastRequestError: KafkatuneError | null = null
  let seq = 0
  let outstanding = 0
  const flushWaiters: FlushWaiter[] = []
  const admissions: Admission<K, V>[] = []
  let pumping = false

  const finished = (recordSeq: number): void => {
    outstanding--
    if (flushWaiters.length === 0) return
    for (let i = flushWaiters.length - 1; i >= 0; i--) {
      const w = flushWaiters[i] as FlushWaiter
      if (recordSeq <= w.barrier && --w.remaining === 0) {
        flushWaiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  const build = (a: PendingSend, topic: string, k: Buffer | null, v: Buffer | null): void => storeSerialized(a, topic, k, v, settings)

  /**
   * Serializes into `a` (sync when the serializers are); throws/rejects SERIALIZATION or RECORD_TOO_LARGE.
   * `key` and `value` are the record's, read once when send() was called.
   */
  const prepare = (record: ProducerRecord<K, V>, a: PendingSend, topic: string, key: K | null, value: V): Promise<void> | null => {
    // The trace context goes in before serializers see the headers and before the record is sized.
    // (A closure only while tracing: the untraced hot path allocates none.)
    const tracer = activeTracer()
    const prepared = prepareHeaders(
      record.headers,
      tracer === null ? null : (h) => void (a.span = startSendSpan(tracer, { topic, partition: record.partition, key, tombstone: value === null || value === undefined, clientId: settings.clientId }, h)),
    )
    const headers = prepared?.view
    a.headers = prepared?.wire
    // Without an explicit timestamp the create time is stamped once, when the record's batch is first
    // dispatched (engine.produce): one value per request keeps kafkajs's per-record timestamp work (sort,
    // Long deltas) out of the hot path, which measured about a third of the client CPU.
    a.timestamp = record.timestamp === undefined ? '' : sendTimestamp(record.timestamp, topic)
    const k = key === null ? null : serializeRecordPart(settings.keySerializer, key, topic, 'key', headers)
    const v = value === null || value === undefined ? null : serializeRecordPart(settings.valueSerializer, value, topic, 'value', headers)
    if (k instanceof Promise || v instanceof Promise) {
      return Promise.all([k, v]).then(([kb, vb]) => build(a, topic, kb, vb))
    }
    build(a, topic, k, v)
    return null
  }

  const choosePartition = partitionChooser(partitioner, (topic) => engine.availablePartitions(topic))

  const host: PendingHost = {
    settled(a, err) {
      pool.release(a.size)
      finished(a.seq)
      if (err !== null) {
        metrics.failed(err.code, 1)
        if (a.token !== null) a.token.failure ??= err
      }
    },
  }

  /** Appends a prepared record whose buffer space is reserved; returns its promise when it had none (record-promises.ts). */
  const append = (a: PendingSend, topic: string, explicit: number | undefined, key: K | null, value: V, partitionCount: number, now: number): Promise<RecordMetadata> | null => {
    let partition: number
    try {
      partition = choosePartition(a, topic, explicit, key, value, partitionCount)
    } catch (err) {
      pool.release(a.size)
      throw err
    }
    const ready = acc.append(topic, partition, a, now)
    if (a.token !== null) engine.partitionInTransaction(topic, partition)
    let promise: Promise<RecordMetadata> | null = null
    if (a.sink === null) {
      const batch = acc.lastBatch as Batch<OutboundRecord>
      let group = batch.tag as SettleGroup | undefined
      if (group === undefined || !group.open) batch.tag = group = new SettleGroup()
      promise = group.add(a)
    }
    if (ready || settings.lingerMs === 0 || sender.forcing) sender.wake()
    else sender.wakeAt(now + settings.lingerMs)
    return promise
  }

  /** A send() refused before its record reached a batch (serializer, size, partitioner, buffer): same event as a failed batch. */
  const rejectAdmission = (a: PendingSend, err: unknown, topic: unknown): Promise<RecordMetadata> => {
    const e = err instanceof KafkatuneError ? err : new KafkatuneError('KAFKA', err instanceof Error ? err.message : String(err), { cause: err })
    finished(a.seq)
    metrics.failed(e.code, 1)
    if (typeof topic === 'string') metrics.failedInTopic(topic, 1)
    if (a.token !== null) a.token.failure ??= e
    const rejected = a.fail(e)
    emit('producer.error', { error: e, topic: typeof topic === 'string' ? topic : String(topic), partition: -1, records: 1 })
    return rejected as Promise<RecordMetadata>
  }

  /** Admits queued sends strictly in order (async serializers, metadata fetches, buffer waits). */
  const pump = async (): Promise<void> => {
    if (pumping) return
    pumping = true
    try {
      while (admissions.length > 0) {
        const ad = admissions[0] as Admission<K, V>
        const a = ad.a
        try {
          if (ad.preparing !== null) await ad.preparing
          ad.preparing = null
          if (fencedError !== null) throw fencedError
          const count = await engine.partitionCount(ad.topic)
          if (!pool.tryReserve(a.size)) await metrics.bufferWait(pool.reserve(a.size, a.sendAt + settings.maxBlockMs - Date.now()))
          append(a, ad.topic, ad.partition, ad.key, ad.value, count, Date.now())
        } catch (err) {
          rejectAdmission(a, err, ad.topic)
        }
        admissions.shift()
      }
    } finally {
      pumping = false
    }
  }

  const enqueue = (record: ProducerRecord<K, V>, token: TransactionToken | null): Promise<RecordMetadata> => {
    const now = Date.now()
    const a = new PendingSend(host, ++seq, token, now)
    outstanding++
    // The partitioner's inputs are read once, here, and passed along (not kept on the waiting record).
    const { topic } = record
    let partition: number | undefined
    let key: K | null
    let value: V
    let preparing: Promise<void> | null
    try {
      if (typeof topic !== 'string' || topic === '') throw new KafkatuneError('CONFIG_INVALID', 'send(): topic must be a non-empty string', { retriable: false })
      partition = record.partition
      key = record.key ?? null
      value = record.value
      preparing = prepare(record, a, topic, key, value)
    } catch (err) {
      return rejectAdmission(a, err, topic)
    }
    if (admissions.length === 0 && preparing === null) {
      const count = engine.partitionCount(topic, now)
      if (typeof count === 'number' && pool.tryReserve(a.size)) {
        try {
          return append(a, topic, partition, key, value, count, now) as Promise<RecordMetadata>
        } catch (err) {
          return rejectAdmission(a, err, topic)
        }
      }
    }
    const own = new OwnPromise(a)
    admissions.push({ a, topic, partition, key, value, preparing })
    void pump()
    return own.promise
  }

  const refuse = (): KafkatuneError | null => {
    if (fencedError !== null) return fencedError
    if (state === 'closing' || state === 'closed') return new KafkatuneError('CLOSED', 'The producer is disconnected: create a new one', { retriable: false })
    if (state !== 'connected') return new KafkatuneError('NOT_CONNECTED', 'The producer is not connected: await producer.connect() first')
    return null
  }

  const flush = (): Promise<void> => {
    if (outstanding === 0) return Promise.resolve()
    const release = sender.force()
    return new Promise<void>((resolve) => {
      flushWaiters.push({ barrier: seq, remaining: outstanding, resolve })
    }).finally(release)
  }

  const transactions = new TransactionRunner<K, V>({
    engine,
    send: (record, token) => {
      const refused = refuse()
      return refused !== null ? Promise.reject(refused) : enqueue(record, token)
    },
    flush,
    discard: async (error) => {
      for (const ad of admissions.splice(1)) rejectAdmission(ad.a, error, ad.topic)
      sender.failQueued(error)
      await sender.whenIdle()
    },
    fenced: () => fencedError,
    markFenced: (error) => {
      fencedError ??= error
      logger.error({ err: error }, `kafkatune: ${error.message}`)
    },
    reset: async (reason) => {
      metrics.reset()
      emit('producer.reset', { reason })
      await engine.reset(reason)
    },
  })

  const producer: Producer<K, V> = {
    async connect() {
      if (state === 'connected') return
      if (state !== 'new') throw new KafkatuneError('CLOSED', 'The producer was disconnected: create a new one', { retriable: false })
      state = 'connecting'
      try {
        await engine.connect()
      } catch (err) {
        state = 'new'
        throw err
      }
      state = 'connected'
      metrics.start()
    },

    send(record) {
      const refused = refuse()
      if (refused !== null) return Promise.reject(refused)
      const token = transactions.active
      if (engine.transactional && token === null) {
        return Promise.reject(
          new KafkatuneError('CONFIG_INVALID', `This producer has transactionalId '${settings.transactionalId}': send records inside producer.transaction(async (tx) => tx.send(...))`, { retriable: false }),
        )
      }
      return enqueue(record, token)
    },

    flush,

    transaction(fn) {
      const refused = refuse()
      if (refused !== null) return Promise.reject(refused)
      if (!engine.transactional) {
        return Promise.reject(new KafkatuneError('CONFIG_INVALID', 'producer.transaction() needs the transactionalId option (or the exactly-once preset)', { retriable: false }))
      }
      return transactions.run(fn)
    },

    metrics() {
      return metrics.snapshot({ inUse: pool.inUse, capacity: pool.capacity, recordsInFlight: outstanding })
    },

    health(options) {
      return producerHealth({ state, fenced: fencedError, bufferInUse: pool.inUse, bufferMemory: pool.capacity, blocked: pool.exhausted, lastRequestError }, options)
    },

    async disconnect() {
      if (state === 'closed' || state === 'closing') return
      if (state === 'new') {
        state = 'closed'
        return
      }
      await flush()
      state = 'closing'
      const closed = new KafkatuneError('CLOSED', 'The producer was disconnected', { retriable: false })
      sender.failQueued(closed)
      pool.failWaiters(closed)
      await sender.whenIdle()
      sender.close()
      try {
        await engine.disconnect()
      } finally {
        state = 'closed'
        metrics.stop()
      }
    },

    on(event, listener) {
      return listeners.on(event, listener)
    },
  }
  metrics.gauges = () => ({ bufferInUse: pool.inUse, bufferCapacity: pool.capacity, requestsInFlight: sender.requestsInFlight })
  return withMetricsSources(producer, metrics)
}
