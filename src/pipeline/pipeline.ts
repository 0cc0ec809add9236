import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer, Transaction } from 'kafkajs'
import { createKafkaClient, guardConnect } from '../client.js'
import {
  kafkajsSendOptions,
  resolvePipelineConfig,
  toKafkajsConsumerConfig,
  toKafkajsProducerConfig,
  type PipelineSettings,
} from '../config/index.js'
import type { OutRecord, PipelineOptions } from '../config/options.js'
import type { ProducerSettings } from '../config/resolved.js'
import { KafkatuneError } from '../errors.js'
import type { ConsumedMessage } from '../messages.js'
import type { Serializer } from '../serde/types.js'

/** A running consume-transform-produce loop. */
export interface Pipeline {
  /** Joins the group and starts processing; resolves once running (like kafkajs `consumer.run`). */
  run(): Promise<void>
  /** Resolves after `stop()`; rejects with the error that stopped the pipeline (a transform failing for good). */
  stopped(): Promise<void>
  /** Finishes the transaction in flight, leaves the group and disconnects. */
  stop(): Promise<void>
  /** Counters since start. */
  metrics(): PipelineMetrics
}

/** What a pipeline has done so far. */
export interface PipelineMetrics {
  inputRecords: number
  outputRecords: number
  transactionsCommitted: number
  transactionsAborted: number
  fencedProducers: number
  /** Transactions retried after a transient error (e.g. CONCURRENT_TRANSACTIONS right after a commit). */
  transactionRetries: number
}

const FENCING_ERRORS = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'UNKNOWN_PRODUCER_ID', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])

const MAX_TX_ATTEMPTS = 8
const RETRIABLE_TX_ERRORS = new Set([
  'CONCURRENT_TRANSACTIONS',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'REQUEST_TIMED_OUT',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
])

/** kafkajs marks most transient errors retriable; CONCURRENT_TRANSACTIONS after a commit is one it gives up on. */
function isRetriable(err: unknown): boolean {
  const e = err as { type?: string; retriable?: boolean; cause?: unknown; originalError?: unknown } | undefined
  if (!e || err instanceof KafkatuneError) return false
  if (e.retriable === true || (e.type !== undefined && RETRIABLE_TX_ERRORS.has(e.type))) return true
  const inner = e.originalError ?? e.cause
  return inner !== undefined && inner !== err ? isRetriable(inner) : /ECONNREFUSED|ECONNRESET|timed out/i.test((err as Error).message ?? '')
}

function isFencing(err: unknown): boolean {
  const e = err as { type?: string; name?: string; message?: string; cause?: unknown } | undefined
  if (!e) return false
  if (e.type && FENCING_ERRORS.has(e.type)) return true
  if (/fenced|epoch/i.test(e.message ?? '')) return true
  return e.cause !== undefined && e.cause !== err ? isFencing(e.cause) : false
}

async function decode<T>(ser: Serializer<T>, buf: Buffer | null, topic: string, part: 'key' | 'value'): Promise<T | null> {
  if (buf === null) return null
  try {
    return await ser.deserialize(buf, { topic, part })
  } catch (cause) {
    throw new KafkatuneError('DESERIALIZATION', `cannot deserialize the ${part} of a record from '${topic}' with '${ser.name ?? 'custom'}'`, { cause, details: { topic, part } })
  }
}

async function encode<T>(ser: Serializer<T>, value: T | null | undefined, topic: string, part: 'key' | 'value'): Promise<Buffer | null> {
  if (value === null || value === undefined) return null
  try {
    return await ser.serialize(value, { topic, part })
  } catch (cause) {
    throw new KafkatuneError('SERIALIZATION', `cannot serialize the ${part} of a record for '${topic}' with '${ser.name ?? 'custom'}'`, { cause, details: { topic, part } })
  }
}

/**
 * Consume-transform-produce. With `'exactly-once'` (the default) every input partition gets its own
 * transactional producer (`<prefix>-<topic>-<partition>`, stable across restarts): outputs and the
 * input offsets commit in one transaction, and a new owner of the partition fences the old one,
 * since kafkajs cannot send the group metadata that KIP-447 fencing needs.
 * @example
 * const p = createPipeline({ brokers, groupId: 'copy', from: 'in', to: 'out', transactionalIdPrefix: 'copy',
 *   transform: async (msg) => ({ key: msg.key, value: msg.value?.toUpperCase() ?? '' }) })
 */
export function createPipeline<KIn = string, VIn = string, KOut = string, VOut = string>(
  options: PipelineOptions<KIn, VIn, KOut, VOut>,
): Pipeline {
  const settings: PipelineSettings = resolvePipelineConfig(options as unknown as PipelineOptions<unknown, unknown, unknown, unknown>)
  const cs = settings.consumer
  const ps = settings.producer as ProducerSettings<KOut, VOut>
  const log = cs.logger.child({ component: 'pipeline', groupId: cs.groupId })
  const kafka = createKafkaClient({ ...cs, requestTimeoutMs: ps.requestTimeoutMs })
  const send = kafkajsSendOptions(ps)
  const metrics: PipelineMetrics = { inputRecords: 0, outputRecords: 0, transactionsCommitted: 0, transactionsAborted: 0, fencedProducers: 0, transactionRetries: 0 }
  const producers = new Map<string, Promise<Producer>>()
  let consumer: Consumer | undefined
  let plainProducer: Producer | undefined
  let stopping = false
  let failure: KafkatuneError | undefined
  let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined
  const stopped = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject }
  })
  stopped.catch(() => undefined)

  const producerFor = (topic: string, partition: number): Promise<Producer> => {
    const id = `${settings.transactionalIdPrefix}-${topic}-${partition}`
    let p = producers.get(id)
    if (!p) {
      p = (async () => {
        const producer = kafka.producer({ ...toKafkajsProducerConfig({ ...ps, transactionalId: id } as ProducerSettings<KOut, VOut>) })
        await producer.connect()
        return producer
      })()
      producers.set(id, p)
      p.catch(() => producers.delete(id))
    }
    return p
  }

  const dropProducer = async (topic: string, partition: number): Promise<void> => {
    const id = `${settings.transactionalIdPrefix}-${topic}-${partition}`
    const p = producers.get(id)
    producers.delete(id)
    if (p) await p.then((x) => x.disconnect()).catch(() => undefined)
  }

  const toMessage = async (topic: string, partition: number, m: KafkaMessage): Promise<ConsumedMessage<KIn, VIn>> => {
    const headers: Record<string, Buffer | undefined> = {}
    for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Array.isArray(v) ? (v[0] === undefined ? undefined : Buffer.from(v[0])) : v === undefined ? undefined : Buffer.from(v)
    return {
      topic,
      partition,
      offset: m.offset,
      key: await decode(cs.keyDeserializer as Serializer<KIn>, m.key ?? null, topic, 'key'),
      value: await decode(cs.valueDeserializer as Serializer<VIn>, m.value ?? null, topic, 'value'),
      headers,
      timestamp: m.timestamp,
    }
  }

  const outputsOf = async (msg: ConsumedMessage<KIn, VIn>) => {
    let out: OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null
    try {
      out = await options.transform(msg)
    } catch (cause) {
      throw new KafkatuneError('HANDLER_FAILED', `transform failed for ${msg.topic}[${msg.partition}]@${msg.offset}`, {
        cause,
        details: { topic: msg.topic, partition: msg.partition, offset: msg.offset },
      })
    }
    const list = out === null ? [] : Array.isArray(out) ? out : [out]
    const byTopic = new Map<string, { key: Buffer | null; value: Buffer | null; headers?: Record<string, string | Buffer> }[]>()
    for (const r of list) {
      const topic = r.topic ?? options.to
      if (!topic) throw new KafkatuneError('CONFIG_INVALID', 'an output record has no topic and the pipeline has no `to`', { retriable: false })
      const rec = {
        key: await encode(ps.keySerializer, r.key, topic, 'key'),
        value: await encode(ps.valueSerializer, r.value, topic, 'value'),
        ...(r.headers ? { headers: r.headers } : {}),
      }
      const arr = byTopic.get(topic) ?? []
      arr.push(rec)
      byTopic.set(topic, arr)
    }
    return byTopic
  }

  const processChunk = async (payload: EachBatchPayload, chunk: KafkaMessage[]): Promise<boolean> => {
    const { batch } = payload
    const outputs = new Map<string, { key: Buffer | null; value: Buffer | null; headers?: Record<string, string | Buffer> }[]>()
    for (const m of chunk) {
      const o = await outputsOf(await toMessage(batch.topic, batch.partition, m))
      for (const [t, recs] of o) outputs.set(t, [...(outputs.get(t) ?? []), ...recs])
    }
    const last = chunk[chunk.length - 1]!
    const next = (BigInt(last.offset) + 1n).toString()
    const topicMessages = [...outputs].map(([topic, messages]) => ({ topic, messages }))
    const count = topicMessages.reduce((n, t) => n + t.messages.length, 0)
    if (!settings.exactlyOnce) {
      plainProducer ??= await (async () => {
        const p = kafka.producer(toKafkajsProducerConfig(ps))
        await p.connect()
        return p
      })()
      if (topicMessages.length) await plainProducer.sendBatch({ topicMessages, ...send })
      await consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }])
      metrics.inputRecords += chunk.length
      metrics.outputRecords += count
      return true
    }
    for (let attempt = 0; ; attempt++) {
      const producer = await producerFor(batch.topic, batch.partition)
      let tx: Transaction | undefined
      let committing = false
      try {
        tx = await producer.transaction()
        if (topicMessages.length) await tx.sendBatch({ topicMessages, compression: send.compression, timeout: send.timeout })
        await tx.sendOffsets({ consumerGroupId: cs.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] })
        committing = true
        await tx.commit()
        metrics.transactionsCommitted++
        metrics.inputRecords += chunk.length
        metrics.outputRecords += count
        return true
      } catch (err) {
        if (!committing && tx?.isActive()) await tx.abort().catch(() => undefined)
        // A failed commit or abort leaves a kafkajs producer unusable: always start over with a new one.
        await dropProducer(batch.topic, batch.partition)
        if (isFencing(err)) {
          metrics.transactionsAborted++
          metrics.fencedProducers++
          log.warn({ topic: batch.topic, partition: batch.partition }, 'producer fenced: another member owns this partition now')
          return false
        }
        // A commit whose answer was lost may have happened: never abort-and-resend blindly. A new
        // producer with the same transactional id completes or aborts it; the group offset tells which.
        if (committing && (await committedOffset(batch.topic, batch.partition)) === next) {
          metrics.transactionsCommitted++
          metrics.inputRecords += chunk.length
          metrics.outputRecords += count
          return true
        }
        metrics.transactionsAborted++
        if (!isRetriable(err) || attempt >= MAX_TX_ATTEMPTS || !payload.isRunning() || stopping) throw err
        metrics.transactionRetries++
        const delay = Math.min(ps.retryBackoffMaxMs, ps.retryBackoffMs * 2 ** attempt)
        log.warn({ topic: batch.topic, partition: batch.partition, attempt, err: (err as Error).message }, 'transaction failed, retrying')
        await new Promise((r) => setTimeout(r, delay))
        await payload.heartbeat().catch(() => undefined)
      }
    }
  }

  let admin: Admin | undefined
  const committedOffset = async (topic: string, partition: number): Promise<string | undefined> => {
    try {
      if (!admin) {
        admin = kafka.admin()
        await admin.connect()
      }
      const res = await admin.fetchOffsets({ groupId: cs.groupId, topics: [topic] })
      return res[0]?.partitions.find((p) => p.partition === partition)?.offset
    } catch {
      return undefined
    }
  }

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload
    const size = cs.maxPollRecords
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!isRunning() || isStale() || stopping) return
      const chunk = batch.messages.slice(i, i + size)
      let ok: boolean
      try {
        ok = await processChunk(payload, chunk)
      } catch (err) {
        // Rewind to the last committed position: the aborted records are read again.
        consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: chunk[0]!.offset })
        throw err
      }
      if (!ok) {
        consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: chunk[0]!.offset })
        return
      }
      resolveOffset(chunk[chunk.length - 1]!.offset)
      await heartbeat()
    }
  }

  const fail = (err: unknown) => {
    failure = err instanceof KafkatuneError ? err : new KafkatuneError('KAFKA', String((err as Error)?.message ?? err), { cause: err })
    log.error({ err: failure }, 'pipeline stopped by an error')
    void shutdown().then(() => settle?.reject(failure), () => settle?.reject(failure))
  }

  const shutdown = async (): Promise<void> => {
    stopping = true
    if (consumer) await consumer.disconnect().catch(() => undefined)
    const all = [...producers.values()]
    producers.clear()
    await Promise.all(all.map((p) => p.then((x) => x.disconnect()).catch(() => undefined)))
    if (plainProducer) await plainProducer.disconnect().catch(() => undefined)
    if (admin) await admin.disconnect().catch(() => undefined)
  }

  return {
    async run() {
      if (consumer) throw new KafkatuneError('CLOSED', 'pipeline.run() was already called')
      const kconsumer = kafka.consumer(toKafkajsConsumerConfig(cs))
      consumer = kconsumer
      await guardConnect(kafka, () => kconsumer.connect(), () => kconsumer.disconnect())
      const topics = [...cs.topics]
      await consumer.subscribe({ topics, fromBeginning: cs.autoOffsetReset === 'earliest' })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: cs.partitionsConsumedConcurrently,
        eachBatch: async (payload) => {
          try {
            await eachBatch(payload)
          } catch (err) {
            if (!stopping) fail(err)
          }
        },
      })
      consumer.on(consumer.events.CRASH, (e) => {
        if (!stopping) fail(e.payload.error)
      })
    },
    stopped() {
      return stopped
    },
    async stop() {
      await shutdown()
      settle?.resolve()
    },
    metrics() {
      return { ...metrics }
    },
  }
}
