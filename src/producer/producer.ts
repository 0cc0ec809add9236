/**
 * `createProducer`: wires settings, serializers, the partitioner, the accumulator, the buffer pool,
 * the sender and the kafkajs engine into the plain object users program against.
 */
import { registerCodecs } from '../codecs/index.js'
import { createKafkaClient } from '../client.js'
import { resolveProducerConfig } from '../config/index.js'
import type { ProducerOptions, ProducerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { createPartitioner } from '../partitioners/index.js'
import type { Serializer } from '../serde/types.js'
import { BATCH_OVERHEAD_BYTES, RecordAccumulator, estimateRecordSize } from './accumulator.js'
import { BufferPool } from './buffer-pool.js'
import { KafkajsProducerEngine } from './engine.js'
import { ProducerMetricsRecorder } from './metrics.js'
import { Sender } from './sender.js'
import type { OutboundRecord } from './sender.js'
import { TransactionRunner } from './transaction.js'
import type { TransactionToken } from './transaction.js'
import type { Producer, ProducerEvents, ProducerRecord, RecordMetadata } from './types.js'

/**
 * Most records of one partition in one produce request: kafkajs groups records per partition in
 * quadratic time (see notes/kafkajs.md), so larger units cost more CPU than they save.
 */
const MAX_RECORDS_PER_PARTITION_REQUEST = 4_000

interface Prepared {
  topic: string
  partition: number | undefined
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer> | undefined
  timestamp: string
  size: number
  userKey: unknown
  userValue: unknown
}

interface Admission {
  prepared: Prepared | Promise<Prepared>
  sendAt: number
  seq: number
  token: TransactionToken | null
  resolve: (md: RecordMetadata) => void
  reject: (err: KafkatuneError) => void
}

interface FlushWaiter {
  barrier: number
  remaining: number
  resolve: () => void
}

type Listener = (payload: never) => void

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
  const logger = settings.logger.child({ component: 'kafkatune.producer' })
  const kafka = createKafkaClient(settings)
  const engine = new KafkajsProducerEngine(kafka, settings as ProducerSettings<unknown, unknown>)
  const partitioner = createPartitioner<K, V>(settings.partitioner, { batchSize: settings.batchSize })
  const metrics = new ProducerMetricsRecorder()
  const pool = new BufferPool(settings.bufferMemory, settings.maxBlockMs)
  const listeners = new Map<keyof ProducerEvents, Set<Listener>>()
  const emit = <E extends keyof ProducerEvents>(event: E, payload: ProducerEvents[E]): void => {
    const set = listeners.get(event)
    if (set === undefined) return
    for (const fn of set) {
      try {
        ;(fn as (p: ProducerEvents[E]) => void)(payload)
      } catch (err) {
        logger.error({ err, event }, 'kafkatune: a producer event listener threw')
      }
    }
  }

  const acc = new RecordAccumulator<OutboundRecord>({
    batchSize: settings.batchSize,
    lingerMs: settings.lingerMs,
    maxDrainBytes: settings.maxRequestSize,
    maxDrainRecords: MAX_RECORDS_PER_PARTITION_REQUEST,
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
    onRequest: (info) => emit('producer.request', info),
    onFailure: (batch, error, records) => {
      logger.error({ err: error, topic: batch.topic, partition: batch.partition, records }, `kafkatune: ${records} record(s) failed: ${error.message}`)
      emit('producer.error', { error, topic: batch.topic, partition: batch.partition, records })
    },
    onReset: (reason) => emit('producer.reset', { reason }),
    onFenced: (error) => {
      fencedError ??= error
    },
  })

  let state: 'new' | 'connecting' | 'connected' | 'closing' | 'closed' = 'new'
  let fencedError: KafkatuneError | null = null
  let seq = 0
  let outstanding = 0
  const flushWaiters: FlushWaiter[] = []
  const admissions: Admission[] = []
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

  const serialize = <T>(serializer: Serializer<T>, value: T, topic: string, part: 'key' | 'value', headers: Record<string, Buffer> | undefined): Buffer | Promise<Buffer> => {
    const fail = (err: unknown): KafkatuneError =>
      new KafkatuneError('SERIALIZATION', `Could not serialize the ${part} of a record for topic "${topic}" with the ${serializer.name ?? 'custom'} serializer: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
        retriable: false,
        details: { topic, part, serializer: serializer.name ?? 'custom' },
      })
    const check = (out: unknown): Buffer => {
      if (!Buffer.isBuffer(out)) throw fail(new TypeError(`expected a Buffer, got ${out === null ? 'null' : typeof out}`))
      return out
    }
    let out: Buffer | Promise<Buffer>
    try {
      out = serializer.serialize(value, { topic, part, headers })
    } catch (err) {
      throw fail(err)
    }
    if (out instanceof Promise) return out.then(check, (err: unknown) => Promise.reject(fail(err)))
    return check(out)
  }

  const prepare = (record: ProducerRecord<K, V>): Prepared | Promise<Prepared> => {
    const { topic } = record
    if (typeof topic !== 'string' || topic === '') throw new KafkatuneError('CONFIG_INVALID', 'send(): topic must be a non-empty string', { retriable: false })
    let headers: Record<string, Buffer> | undefined
    if (record.headers !== undefined) {
      headers = {}
      for (const [name, v] of Object.entries(record.headers)) headers[name] = typeof v === 'string' ? Buffer.from(v) : v
    }
    const userKey = record.key ?? null
    const key = userKey === null ? null : serialize(settings.keySerializer, userKey as K, topic, 'key', headers)
    const value = record.value === null || record.value === undefined ? null : serialize(settings.valueSerializer, record.value, topic, 'value', headers)
    const timestamp = record.timestamp === undefined ? String(Date.now()) : String(record.timestamp)
    const build = (k: Buffer | null, v: Buffer | null): Prepared => {
      const size = estimateRecordSize(k, v, headers)
      if (size + BATCH_OVERHEAD_BYTES > settings.maxRequestSize || size > settings.bufferMemory) {
        throw new KafkatuneError(
          'RECORD_TOO_LARGE',
          `A record of about ${size} bytes for topic "${topic}" is larger than ${size > settings.bufferMemory ? `bufferMemory (${settings.bufferMemory})` : `maxRequestSize (${settings.maxRequestSize})`}: raise maxRequestSize (and the topic's max.message.bytes) or send smaller records`,
          { retriable: false, details: { topic, size, maxRequestSize: settings.maxRequestSize } },
        )
      }
      return { topic, partition: record.partition, key: k, value: v, headers, timestamp, size, userKey, userValue: record.value }
    }
    if (key instanceof Promise || value instanceof Promise) {
      return Promise.all([key, value]).then(([k, v]) => build(k, v))
    }
    return build(key, value)
  }

  const choosePartition = (p: Prepared, partitionCount: number): number =>
    partitioner.partition({
      topic: p.topic,
      key: p.userKey as K | null,
      keyBytes: p.key,
      value: p.userValue as V,
      partition: p.partition,
      partitionCount,
      availablePartitions: engine.availablePartitions(p.topic),
      recordSize: p.size,
    })

  /** Appends a prepared record whose buffer space is reserved. */
  const append = (a: Admission, p: Prepared, partitionCount: number): void => {
    let partition: number
    try {
      partition = choosePartition(p, partitionCount)
    } catch (err) {
      pool.release(p.size)
      throw err
    }
    let settled = false
    const token = a.token
    const rec: OutboundRecord = {
      key: p.key,
      value: p.value,
      headers: p.headers,
      timestamp: p.timestamp,
      size: p.size,
      sendAt: a.sendAt,
      settle: (md, err) => {
        if (settled) return false
        settled = true
        pool.release(p.size)
        finished(a.seq)
        if (err !== null) {
          metrics.failed(err.code, 1)
          if (token !== null) token.failure ??= err
          a.reject(err)
        } else {
          a.resolve(md as RecordMetadata)
        }
        return true
      },
    }
    const now = Date.now()
    const ready = acc.append(p.topic, partition, rec, now)
    if (ready || settings.lingerMs === 0 || sender.forcing) sender.wake()
    else sender.wakeAt(now + settings.lingerMs)
  }

  const rejectAdmission = (a: Admission, err: unknown): void => {
    const e = err instanceof KafkatuneError ? err : new KafkatuneError('KAFKA', err instanceof Error ? err.message : String(err), { cause: err })
    finished(a.seq)
    metrics.failed(e.code, 1)
    if (a.token !== null) a.token.failure ??= e
    a.reject(e)
  }

  /** Admits queued sends strictly in order (async serializers, metadata fetches, buffer waits). */
  const pump = async (): Promise<void> => {
    if (pumping) return
    pumping = true
    try {
      while (admissions.length > 0) {
        const a = admissions[0] as Admission
        try {
          const p = await a.prepared
          if (fencedError !== null) throw fencedError
          const count = await engine.partitionCount(p.topic)
          await pool.reserve(p.size, a.sendAt + settings.maxBlockMs - Date.now())
          append(a, p, count)
        } catch (err) {
          rejectAdmission(a, err)
        }
        admissions.shift()
      }
    } finally {
      pumping = false
    }
  }

  const enqueue = (record: ProducerRecord<K, V>, token: TransactionToken | null): Promise<RecordMetadata> => {
    const promise = new Promise<RecordMetadata>((resolve, reject) => {
      const a: Admission = { prepared: undefined as unknown as Prepared, sendAt: Date.now(), seq: ++seq, token, resolve, reject }
      outstanding++
      try {
        a.prepared = prepare(record)
      } catch (err) {
        rejectAdmission(a, err)
        return
      }
      if (admissions.length === 0 && !(a.prepared instanceof Promise)) {
        const p = a.prepared
        const count = engine.partitionCount(p.topic)
        if (typeof count === 'number' && pool.tryReserve(p.size)) {
          try {
            append(a, p, count)
          } catch (err) {
            rejectAdmission(a, err)
          }
          return
        }
      }
      admissions.push(a)
      void pump()
    })
    // Fire-and-forget sends must not crash the process with an unhandled rejection: failures are
    // logged, emitted as 'producer.error' and counted in metrics(); awaiting callers still get them.
    promise.catch(() => undefined)
    return promise
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
      for (const a of admissions.splice(1)) rejectAdmission(a, error)
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
      registerCodecs()
      try {
        await engine.connect()
      } catch (err) {
        state = 'new'
        throw err
      }
      state = 'connected'
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
      }
    },

    on(event, listener) {
      let set = listeners.get(event)
      if (set === undefined) listeners.set(event, (set = new Set()))
      const l = listener as Listener
      set.add(l)
      return () => {
        set.delete(l)
      }
    },
  }
  return producer
}
