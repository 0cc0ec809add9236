import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Message, Producer, Transaction } from 'kafkajs'
import { createKafkaClient, guardConnect } from '../client.js'
import {
  kafkajsSendOptions,
  resolvePipelineConfig,
  toKafkajsConsumerConfig,
  toKafkajsProducerConfig,
  type PipelineSettings,
} from '../config/index.js'
import type { PipelineOptions } from '../config/options.js'
import type { ProducerSettings } from '../config/resolved.js'
import { KafkatuneError } from '../errors.js'
import { inspectKafkajsError, isFenced, isRetriable, kafkaError, RESET_TYPES } from '../kafkajs/errors.js'
import type { Serializer } from '../serde/types.js'
import { createAssigners, NO_GENERATION } from '../consumer/assignors/index.js'
import type { StickyMemory } from '../consumer/assignors/index.js'
import { rawOf } from '../consumer/decode.js'
import { HandlerGuard } from '../consumer/guards.js'
import { generationOf } from '../kafkajs/group-generation.js'
import { toKafkajsPartitioner } from '../kafkajs/partitioner.js'
import { createPartitioner as createKafkatunePartitioner } from '../partitioners/index.js'
import type { PartitionerName } from '../partitioners/index.js'
import { addOutputs, createOutputs } from './outputs.js'
import { backoffMs } from '../util/backoff.js'
import type { Outputs } from './outputs.js'

/** A running consume-transform-produce loop. */
export interface Pipeline {
  /** Joins the group and starts processing; resolves once running (like kafkajs `consumer.run`). */
  run(): Promise<void>
  /**
   * Resolves after `stop()`; rejects with the error that stopped the pipeline (a transform failing for good).
   * When nobody called `stopped()`, that error is thrown as an uncaught exception instead, as a Node emitter
   * does with an unheard 'error': a pipeline that stopped must not look healthy.
   */
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
  /** Transform calls retried (consumer `retry` policy). */
  transformRetries: number
  /** Input records written to the dead-letter topic. */
  deadLettered: number
  /** Chunks that outlived `maxPollIntervalMs` (not committed; read again by the partition's next owner). */
  maxPollIntervalExceeded: number
}

const MAX_TX_ATTEMPTS = 8

/** The partition's producer must be replaced: fenced by a newer owner, or its producer id is no longer known. */
const needsNewProducer = (err: unknown): boolean => {
  if (isFenced(err)) return true
  const { type } = inspectKafkajsError(err)
  return type !== null && RESET_TYPES.has(type)
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
  const metrics: PipelineMetrics = { inputRecords: 0, outputRecords: 0, transactionsCommitted: 0, transactionsAborted: 0, fencedProducers: 0, transactionRetries: 0, transformRetries: 0, deadLettered: 0, maxPollIntervalExceeded: 0 }
  const producers = new Map<string, Promise<Producer>>()
  const createPartitioner = toKafkajsPartitioner(createKafkatunePartitioner(ps.partitioner as PartitionerName, { batchSize: ps.batchSize }))
  let stickyMemory: StickyMemory | null = null
  let consumer: Consumer | undefined
  let plainProducer: Producer | undefined
  let stopping = false
  let failure: KafkatuneError | undefined
  /** Someone called `stopped()` and so hears about a fatal error. */
  let observed = false
  let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined
  const stopped = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject }
  })
  stopped.catch(() => undefined)

  /** The partition's transactional producer; `fresh` when it was just initialised (and fenced older owners). */
  const producerFor = async (topic: string, partition: number): Promise<{ producer: Producer; fresh: boolean }> => {
    const id = `${settings.transactionalIdPrefix}-${topic}-${partition}`
    let p = producers.get(id)
    let fresh = false
    if (!p) {
      fresh = true
      p = (async () => {
        const producer = kafka.producer({ ...toKafkajsProducerConfig({ ...ps, transactionalId: id } as ProducerSettings<KOut, VOut>), createPartitioner })
        await producer.connect()
        return producer
      })()
      producers.set(id, p)
      p.catch(() => producers.delete(id))
    }
    return { producer: await p, fresh }
  }

  const dropProducer = async (topic: string, partition: number): Promise<void> => {
    const id = `${settings.transactionalIdPrefix}-${topic}-${partition}`
    const p = producers.get(id)
    producers.delete(id)
    if (p) await p.then((x) => x.disconnect()).catch(() => undefined)
  }

  const outputsOf = createOutputs<KIn, VIn, KOut, VOut>({
    transform: options.transform,
    to: options.to,
    keyDeserializer: cs.keyDeserializer as Serializer<KIn>,
    valueDeserializer: cs.valueDeserializer as Serializer<VIn>,
    keySerializer: ps.keySerializer,
    valueSerializer: ps.valueSerializer,
    retry: cs.retry,
    deadLetterTopic: cs.deadLetterTopic,
    groupId: cs.groupId,
    log,
    shouldStop: () => stopping,
    onRetry: () => void metrics.transformRetries++,
    onDeadLetter: () => void metrics.deadLettered++,
  })

  /** `true` when the chunk is done; else the offset to read the partition from again. */
  const processChunk = async (payload: EachBatchPayload, chunk: KafkaMessage[]): Promise<true | { seekTo: string }> => {
    const { batch } = payload
    const outputs: Outputs = new Map()
    const guard = new HandlerGuard({
      heartbeatIntervalMs: cs.heartbeatIntervalMs,
      maxPollIntervalMs: cs.maxPollIntervalMs,
      heartbeat: () => payload.heartbeat(),
      onHeartbeatError: () => undefined, // the heartbeat after the chunk reports it
      onExceeded: (elapsedMs) =>
        log.error(
          { topic: batch.topic, partition: batch.partition, from: chunk[0]!.offset, elapsedMs, maxPollIntervalMs: cs.maxPollIntervalMs },
          'a chunk took longer than maxPollIntervalMs: heartbeats stop so its partitions move to another member; nothing of it is committed',
        ),
    })
    guard.start()
    guard.enter()
    try {
      for (const m of chunk) {
        addOutputs(outputs, await outputsOf(rawOf(batch.topic, batch.partition, m)))
        if (guard.exceeded) break
      }
    } finally {
      guard.leave()
      guard.stop()
    }
    if (guard.exceeded) {
      metrics.maxPollIntervalExceeded++
      return { seekTo: chunk[0]!.offset }
    }
    const last = chunk[chunk.length - 1]!
    const next = (BigInt(last.offset) + 1n).toString()
    const topicMessages = [...outputs].map(([topic, messages]) => ({ topic, messages: messages as Message[] }))
    const count = topicMessages.reduce((n, t) => n + t.messages.length, 0)
    if (!settings.exactlyOnce) {
      plainProducer ??= await (async () => {
        const p = kafka.producer({ ...toKafkajsProducerConfig(ps), createPartitioner })
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
      const { producer, fresh } = await producerFor(batch.topic, batch.partition)
      if (fresh) {
        // Initialising the producer fenced any earlier owner of this partition and let its last transaction
        // finish. If that transaction committed after this member read its start offset (an evicted member
        // that was still running), those inputs are done: skip them, or their outputs would appear twice.
        const committed = await committedOffset(batch.topic, batch.partition)
        if (committed !== undefined && BigInt(committed) > BigInt(chunk[0]!.offset)) {
          log.info({ topic: batch.topic, partition: batch.partition, from: chunk[0]!.offset, committed }, 'inputs already committed by the previous owner: skipping them')
          return { seekTo: committed }
        }
      }
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
        if (needsNewProducer(err)) {
          metrics.transactionsAborted++
          if (isFenced(err)) metrics.fencedProducers++
          log.warn({ topic: batch.topic, partition: batch.partition }, 'producer fenced: another member owns this partition now')
          return { seekTo: chunk[0]!.offset }
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
        // Past its own attempts a retriable error goes back to kafkajs, which rejoins or restarts the consumer.
        if (!isRetriable(err) || attempt >= MAX_TX_ATTEMPTS || !payload.isRunning() || stopping) throw err
        metrics.transactionRetries++
        const delay = backoffMs(attempt + 1, { baseMs: ps.retryBackoffMs, maxMs: ps.retryBackoffMaxMs })
        log.debug({ topic: batch.topic, partition: batch.partition, attempt, err: (err as Error).message }, 'transaction failed, retrying')
        await new Promise((r) => setTimeout(r, delay))
        // A rebalance ends the retries: the partition may belong to another member now.
        await payload.heartbeat()
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
      let done: true | { seekTo: string }
      try {
        done = await processChunk(payload, chunk)
      } catch (err) {
        // Rewind to the last committed position: the aborted records are read again.
        rewind(batch.topic, batch.partition, chunk[0]!.offset)
        throw err
      }
      if (done !== true) {
        rewind(batch.topic, batch.partition, done.seekTo)
        return
      }
      resolveOffset(chunk[chunk.length - 1]!.offset)
      await heartbeat()
    }
  }

  const rewind = (topic: string, partition: number, offset: string): void => {
    try {
      consumer!.seek({ topic, partition, offset })
    } catch (err) {
      // After a revocation the partition is not ours: its next owner starts from the committed offset.
      log.debug({ err, topic, partition, offset }, 'rewind skipped')
    }
  }

  /**
   * Errors the pipeline owns end it (a transform or serializer failing for good, bad config); everything
   * else is kafkajs's (rebalances, coordinator moves, lost connections) and goes back to kafkajs, which
   * rejoins the group or restarts the consumer, as a scaled deployment needs.
   */
  const isPipelineFailure = (err: unknown): boolean => err instanceof KafkatuneError && !err.retriable

  const fail = (err: unknown) => {
    failure = kafkaError(err, 'pipeline stopped')
    log.error({ err: failure }, 'pipeline stopped by an error')
    const report = () => {
      settle?.reject(failure)
      // As Node's emitters do with an unheard 'error': a pipeline nobody watches must not look healthy.
      if (!observed) {
        setImmediate(() => {
          throw failure
        })
      }
    }
    void shutdown().then(report, report)
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
      consumer = kafka.consumer(toKafkajsConsumerConfig(cs, createAssigners(cs.partitionAssignors, () => stickyMemory)))
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        stickyMemory = { generation: generationOf(payload.memberId) ?? NO_GENERATION, assignment: payload.memberAssignment }
        log.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined the group')
      })
      const kconsumer = consumer
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
            if (stopping) return
            if (isPipelineFailure(err)) return fail(err)
            log.debug({ err, topic: payload.batch.topic, partition: payload.batch.partition }, 'batch interrupted; kafkajs rejoins or retries')
            throw err
          }
        },
      })
      consumer.on(consumer.events.CRASH, (e) => {
        // kafkajs restarts the consumer after retriable crashes (lost brokers, coordinator moves) by itself.
        if (!stopping && !e.payload.restart) fail(e.payload.error)
      })
    },
    stopped() {
      observed = true
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
