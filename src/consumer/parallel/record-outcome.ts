/**
 * The parallel loop's record off the fast path: the handler with a retry policy, and a record that failed for
 * good (dead-letter topic or stop). The fast path (no retry policy, handler succeeds) stays in the loop.
 */
import type { Logger } from '../../logging/types.js'
import type { ConsumerSettings } from '../../config/index.js'
import { KafkatuneError } from '../../errors.js'
import type { ConsumedMessage } from '../../messages.js'
import type { BatchLoopHost } from '../batch-loop.js'
import type { RawRecord } from '../dead-letter.js'
import type { ConsumerMetricsRecorder } from '../metrics.js'
import { handlerFailure, runWithRetries } from '../retry.js'
import type { RetryOutcome } from '../retry.js'
import type { EachMessageHandler, HandlerContext } from '../types.js'
import type { PartitionCompletion, Slot } from './completion.js'

/** One record handed out: the raw record, its slot in the partition's completion, and the partition. */
export interface Job extends RawRecord, Slot {
  readonly part: PartitionCompletion
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The handler under the consumer's retry policy. */
export function withRetries<K, V>(
  handler: EachMessageHandler<K, V>,
  msg: ConsumedMessage<K, V>,
  context: HandlerContext,
  raw: RawRecord,
  retry: NonNullable<ConsumerSettings<K, V>['retry']>,
  metrics: ConsumerMetricsRecorder,
  log: Logger,
  host: BatchLoopHost<K, V>,
): Promise<RetryOutcome> {
  return runWithRetries(
    async () => {
      const started = Date.now()
      try {
        await handler(msg, context)
      } finally {
        metrics.handlerTime(Date.now() - started)
      }
    },
    retry,
    {
      sleep,
      onRetry: (n, err) => {
        metrics.retries++
        log.info({ topic: raw.topic, partition: raw.partition, offset: raw.offset, attempt: n, err }, 'handler failed, retrying')
      },
      shouldStop: () => context.signal.aborted || host.failed(),
    },
  )
}

/** A record failed for good: dead-letter it (true) or stop the consumer (false). */
export async function giveUp<K, V>(raw: RawRecord, error: unknown, attempts: number, settings: ConsumerSettings<K, V>, host: BatchLoopHost<K, V>): Promise<boolean> {
  const err = handlerFailure(raw, error, attempts, settings.groupId)
  if (settings.deadLetterTopic === null) {
    host.fail(err)
    return false
  }
  try {
    // The dead-letter record is built from the raw fields only, not the loop's bookkeeping on the job.
    const plain: RawRecord = { topic: raw.topic, partition: raw.partition, offset: raw.offset, timestamp: raw.timestamp, key: raw.key, value: raw.value, headers: raw.headers }
    await host.deadLetter([plain], err, attempts)
    return true
  } catch (dlqErr) {
    host.fail(new KafkatuneError('KAFKA', `Cannot write ${raw.topic}[${raw.partition}]@${raw.offset} to the dead-letter topic ${settings.deadLetterTopic}`, { cause: dlqErr, details: { topic: raw.topic, partition: raw.partition, offset: raw.offset } }))
    return false
  }
}
