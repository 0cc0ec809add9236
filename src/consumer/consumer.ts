/**
 * The consumer's lifecycle: created -> connected -> running -> stopping -> stopped (or failed). The work is
 * in its parts: `BatchLoop` (records -> handlers -> offsets), `GroupCommitter`, `Membership` (joins and the
 * rebalance hooks), `checkStartPositions`, and the kafkajs side in `src/kafkajs/consumer-client.ts`.
 */
import { guardConnect } from '../client.js'
import { resolveConsumerConfig } from '../config/index.js'
import { clientLogger } from '../logging/fields.js'
import type { ConsumerOptions, ConsumerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { createKafkajsConsumer, toFetchedBatch } from '../kafkajs/consumer-client.js'
import { kafkaError } from '../kafkajs/errors.js'
import { observeFetchResponses, observeFetchedPartitions } from '../kafkajs/fetch-decoder.js'
import { generationOf } from '../kafkajs/group-generation.js'
import { withMetricsSources } from '../observability/metrics-source.js'
import { BatchLoop } from './batch-loop.js'
import { createCommitStrategy } from './commit/index.js'
import { GroupCommitter } from './committer.js'
import { DeadLetterWriter } from './dead-letter.js'
import { recordDeadLetter, recordProcessFailure } from '../observability/tracing-consumer.js'
import type { RawRecord } from './dead-letter.js'
import { CommittedOffsetsReader } from './committed-reader.js'
import { ConsumerEmitter } from './events.js'
import { GroupEvents } from './group-events.js'
import { ConsumerLiveness } from './liveness.js'
import { PauseControl, checkPosition } from './pauses.js'
import { Membership } from './membership.js'
import { ConsumerMetricsRecorder } from './metrics.js'
import { OffsetTracker } from './offsets.js'
import { CompletionTracker } from './parallel/completion.js'
import { ParallelLoop } from './parallel/parallel-loop.js'
import { ensureStartPositions } from './start-positions.js'
import type { Consumer, MaxPollIntervalExceededEvent, RunHandlers } from './types.js'
import { deferred, within } from '../util/async.js'

export type * from './types.js'

type State = 'created' | 'connected' | 'running' | 'stopping' | 'failed'

/**
 * Creates a consumer: typed deserialized records, commit strategies, heartbeats while handlers run,
 * max.poll.interval.ms, retries and a dead-letter topic, on top of kafkajs.
 * @example
 * const consumer = createConsumer({ brokers: ['127.0.0.1:9092'], groupId: 'billing', topics: ['orders'], commit: { strategy: 'batch', size: 100 } })
 * await consumer.connect()
 * await consumer.run({ eachMessage: async (msg) => console.log(msg.value) })
 */
export function createConsumer<K = string, V = string>(options: ConsumerOptions<K, V>): Consumer<K, V> {
  return createConsumerFromSettings(resolveConsumerConfig(options))
}

/** Creates a consumer from already resolved settings (used by the pipeline and tests). */
export function createConsumerFromSettings<K, V>(settings: ConsumerSettings<K, V>): Consumer<K, V> {
  const log = clientLogger(settings.logger, 'consumer', { clientId: settings.clientId, groupId: settings.groupId })
  const emitter = new ConsumerEmitter()
  const metrics = new ConsumerMetricsRecorder(Date.now, settings.clientId, settings.groupId)
  const tracker = new OffsetTracker()
  const strategy = createCommitStrategy(settings.commit)
  let state: State = 'created'
  let fatal: KafkatuneError | null = null
  let handlers: RunHandlers<K, V> | null = null
  /** stop()'s deadline passed: whatever finishes from now on is not recorded or committed. */
  let abandoned = false
  /** Someone will hear about a fatal error (called `stopped()`). */
  let observed = false
  let stopPromise: Promise<void> | null = null
  let stopped = deferred()
  let timer: NodeJS.Timeout | null = null
  let dlqWriter: DeadLetterWriter | null = null

  const { kafka, consumer: kconsumer } = createKafkajsConsumer(settings as ConsumerSettings<unknown, unknown>, () => membership.stickyMemory, (fields) => group.outOfRange(fields))
  // ordering 'key'/'unordered' tracks completions out of order; 'partition' keeps the in-order path untouched.
  const completion = settings.ordering === 'partition' ? null : new CompletionTracker(settings.offsetMetadataMaxBytes)
  observeFetchedPartitions(kafka, (topic, partition, hw, bytes) => metrics.fetchedPartition(topic, partition, hw, bytes))
  observeFetchResponses(kafka, (bytes, throttleMs) => metrics.fetchResponse(bytes, throttleMs))
  const committer = new GroupCommitter(completion ?? tracker, strategy, metrics, log, (offsets) => kconsumer.commitOffsets(offsets))
  const loopHost = {
    handlers: () => handlers,
    halted: () => fatal !== null || state === 'stopping' || abandoned,
    failed: () => fatal !== null,
    abandoned: () => abandoned,
    fail,
    deadLetter,
    emitExceeded: (event: MaxPollIntervalExceededEvent) => emitter.emit('max-poll-interval-exceeded', event),
    restore,
    pause: (topic: string, partition: number) => pauses.pause(topic, partition),
    resume: (topic: string, partition: number) => pauses.resume(topic, partition),
    requestRejoin: (): boolean => group.requestRejoin(),
  }
  const parallel = completion === null ? null : new ParallelLoop<K, V>(settings, completion, committer, strategy, metrics, log, loopHost)
  const loop = parallel ?? new BatchLoop<K, V>(settings, tracker, committer, strategy, metrics, log, loopHost)
  metrics.parallel = parallel
  const pauses = new PauseControl(kconsumer, (topic, p) => parallel?.holds(topic, p) === true, (err, topic, partition) =>
    log.debug({ err, topic, partition }, 'resume after back-pressure refused by kafkajs'),
  )
  const liveness = new ConsumerLiveness(settings, { state: () => state, failure: () => fatal, oldestCallStartedAt: () => loop.oldestCallStartedAt() })
  liveness.watch(kconsumer)
  const committed = new CommittedOffsetsReader(kafka, settings.groupId)
  const membership = new Membership(tracker, committer, metrics, log, {
    handlers: () => handlers,
    running: () => state === 'running',
    idle: () => (parallel !== null ? parallel.drain() : loop.idle()),
    seek: (pos) => kconsumer.seek(pos),
    emit: (event, payload) => emitter.emit(event, payload),
    generationOf,
  }, settings.maxPollIntervalMs)

  const group: GroupEvents = new GroupEvents({
    settings: settings as ConsumerSettings<unknown, unknown>,
    log, metrics, tracker, committed, committer, membership, liveness,
    parallel: parallel as ParallelLoop<unknown, unknown> | null,
    running: () => state === 'running',
    stopping: () => state === 'stopping',
    fail,
  })
  group.wire(kconsumer)

  function restore(topic: string, partition: number) {
    return committed.partition(topic, partition)
  }

  async function deadLetter(raws: RawRecord[], error: unknown, attempts: number): Promise<void> {
    if (dlqWriter === null || settings.deadLetterTopic === null) throw new KafkatuneError('NOT_CONNECTED', 'dead-letter producer not connected')
    await dlqWriter.write(raws, error, attempts)
    metrics.deadLettered += raws.length
    recordDeadLetter(settings.deadLetterTopic, raws.length, error)
    for (const raw of raws) {
      log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, deadLetterTopic: settings.deadLetterTopic, err: error }, 'record sent to the dead-letter topic')
    }
  }

  /** Stops the consumer because of `err`: nothing more is processed, the failed record stays uncommitted. */
  function fail(err: KafkatuneError): void {
    if (fatal !== null) return
    fatal = err
    recordProcessFailure(err)
    log.error({ err, ...err.details }, `consumer stopping: ${err.message}`)
    setImmediate(() => {
      void stop().finally(() => {
        state = 'failed'
        stopped.reject(err)
        if (emitter.hearsErrors()) emitter.emit('error', err)
        else if (!observed) {
          // As Node's emitters do with an unheard 'error': the process must not go on looking healthy.
          setImmediate(() => {
            throw err
          })
        }
      })
    })
  }

  async function connect(): Promise<void> {
    if (state !== 'created') return
    try {
      await guardConnect(kafka, () => kconsumer.connect(), () => kconsumer.disconnect())
      if (settings.deadLetterTopic !== null) {
        dlqWriter = new DeadLetterWriter(settings as ConsumerSettings<unknown, unknown>, settings.deadLetterTopic)
        await dlqWriter.connect()
      }
    } catch (err) {
      throw kafkaError(err, `consumer of group ${settings.groupId} cannot connect to ${settings.brokers.join(',')}`)
    }
    state = 'connected'
    metrics.start()
  }

  async function run(h: RunHandlers<K, V>): Promise<void> {
    if (state === 'created') throw new KafkatuneError('NOT_CONNECTED', 'call consumer.connect() before run()')
    if (state !== 'connected' && state !== 'failed') throw new KafkatuneError('CONFIG_INVALID', 'consumer.run() was already called', { retriable: false })
    if (h === null || typeof h !== 'object' || (h.eachMessage === undefined) === (h.eachBatch === undefined)) {
      throw new KafkatuneError('CONFIG_INVALID', 'consumer.run() takes exactly one of eachMessage or eachBatch', { retriable: false })
    }
    const handler = h.eachMessage ?? h.eachBatch
    if (typeof handler !== 'function') {
      throw new KafkatuneError('CONFIG_INVALID', `consumer.run(): ${h.eachMessage !== undefined ? 'eachMessage' : 'eachBatch'} must be a function, got ${handler === null ? 'null' : typeof handler}`, { retriable: false })
    }
    await ensureStartPositions(kafka, settings as ConsumerSettings<unknown, unknown>, log)
    handlers = h
    committed.clear()
    parallel?.reset()
    fatal = null
    abandoned = false
    stopped = deferred()
    await kconsumer.subscribe({ topics: [...settings.topics], fromBeginning: settings.autoOffsetReset === 'earliest' })
    state = 'running'
    liveness.started()
    if (strategy.intervalMs !== null) {
      timer = setInterval(() => {
        if (state === 'running' && fatal === null) committer.commitSoon()
      }, strategy.intervalMs)
      timer.unref()
    }
    try {
      await kconsumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => {
          metrics.delivered(payload.batch.topic, payload.batch.messages.length)
          return loop.run(toFetchedBatch(payload))
        },
      })
    } catch (err) {
      state = 'connected'
      handlers = null
      if (timer !== null) clearInterval(timer)
      timer = null
      throw kafkaError(err, 'Cannot start consuming')
    }
  }

  function stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (stopPromise !== null) return stopPromise
    if (state !== 'running') return Promise.resolve()
    state = 'stopping'
    const timeoutMs = options.timeoutMs ?? Math.min(settings.maxPollIntervalMs, 30_000)
    const deadline = Date.now() + timeoutMs
    stopPromise = (async () => {
      if (timer !== null) clearInterval(timer)
      timer = null
      if (!(await within(loop.idle(), timeoutMs))) {
        // Past the deadline nothing the handlers finish is recorded or committed, and they are told so.
        abandoned = true
        loop.abortAll(new KafkatuneError('CLOSED', `consumer.stop(): handlers still running after ${timeoutMs} ms`, { retriable: false }))
        log.warn({ timeoutMs, inFlight: loop.active }, 'stop(): handlers still running after the deadline; committing what finished before it')
      }
      const commit = committer.commitPending().catch((err: unknown) => log.warn({ err }, 'stop(): final commit failed'))
      if (!(await within(commit, deadline - Date.now()))) log.warn({ timeoutMs }, 'stop(): the final commit did not finish in time')
      if (fatal === null && !abandoned) await within(membership.beforeRejoin(), deadline - Date.now())
      // kafkajs leaves the group once the running handler returns; stop() does not wait past its deadline for that.
      if (!(await within(kconsumer.stop(), deadline - Date.now()))) log.warn('stop(): a handler is still running; the group is left when it returns')
      group.left()
      committer.useDirect(null)
      parallel?.stopGuard()
      await within(committed.close().catch((err: unknown) => log.debug({ err }, 'offsets admin did not close cleanly')), Math.max(0, deadline - Date.now()))
      handlers = null
      if (fatal === null) {
        state = 'connected'
        stopped.resolve()
      }
    })().finally(() => {
      stopPromise = null
    })
    return stopPromise
  }

  async function disconnect(): Promise<void> {
    await stop()
    await kconsumer.disconnect()
    if (dlqWriter !== null) await dlqWriter.disconnect()
    dlqWriter = null
    state = 'created'
    metrics.stop()
  }

  return withMetricsSources<Consumer<K, V>>({
    connect,
    run,
    stop,
    disconnect,
    stopped: () => {
      observed = true
      return stopped.promise
    },
    pause: (partitions) => pauses.pauseByUser(partitions),
    resume: (partitions) => pauses.resumeByUser(partitions),
    seek: (asked) => {
      const position = checkPosition(asked)
      tracker.forget(position.topic, position.partition)
      parallel?.restart(position.topic, position.partition)
      kconsumer.seek(position)
    },
    metrics: () => metrics.snapshot(),
    health: (options) => liveness.health(options),
    on: (event, listener) => emitter.on(event, listener),
  }, metrics)
}
