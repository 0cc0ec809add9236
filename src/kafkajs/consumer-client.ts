/**
 * The consumer's kafkajs side: the client and consumer kafkatune drives, with the log watch for offsets
 * kafkajs resets silently, and the adapter from kafkajs' eachBatch payload to the batch loop's `FetchedBatch`.
 */
import { logLevel as KafkajsLogLevel } from 'kafkajs'
import type { Consumer as KafkajsConsumer, EachBatchPayload, Kafka, LogEntry } from 'kafkajs'
import { createKafkaClient } from '../client.js'
import { kafkajsLogCreator, toKafkajsClientConfig, toKafkajsConsumerConfig } from '../config/index.js'
import { logFields } from './config.js'
import type { ConsumerSettings } from '../config/index.js'
import { createAssigners } from '../consumer/assignors/index.js'
import type { StickyMemory } from '../consumer/assignors/index.js'
import type { FetchedBatch } from '../consumer/batch-loop.js'
import type { CommitFn } from '../consumer/committer.js'

const OUT_OF_RANGE_LOG = 'Offset out of range'

export interface KafkajsConsumerParts {
  kafka: Kafka
  consumer: KafkajsConsumer
}

/**
 * A kafkajs client and consumer for `settings`. kafkajs resets an out-of-range offset with nothing but a log
 * line, so `onOutOfRange` is called with that line's fields.
 */
export function createKafkajsConsumer(
  settings: ConsumerSettings<unknown, unknown>,
  stickyMemory: () => StickyMemory | null,
  onOutOfRange: (fields: Record<string, unknown>) => void,
): KafkajsConsumerParts {
  const baseLogCreator = kafkajsLogCreator(settings.logger, logFields(settings))
  const logCreator = (level: number): ((entry: LogEntry) => void) => {
    const inner = baseLogCreator!(level)
    return (entry: LogEntry) => {
      if (typeof entry.log.message === 'string' && entry.log.message.startsWith(OUT_OF_RANGE_LOG)) onOutOfRange(entry.log)
      inner(entry)
    }
  }
  // kafkajs must emit at least its errors for the out-of-range watch to work; pino still filters what is written.
  const configured = toKafkajsClientConfig(settings).logLevel ?? KafkajsLogLevel.NOTHING
  const kafka = createKafkaClient({ ...settings, kafkajs: { logLevel: Math.max(configured, KafkajsLogLevel.ERROR), ...settings.kafkajs, logCreator } })
  // kafkajs would commit before every rejoin and after every batch; kafkatune's strategies own commits.
  const consumer = kafka.consumer(toKafkajsConsumerConfig(settings, createAssigners(settings.partitionAssignors, stickyMemory)))
  return { kafka, consumer }
}

/** kafkajs' per-batch commit (straight to the coordinator, one attempt) as a `CommitFn`. */
export function payloadCommit(commitFn: EachBatchPayload['commitOffsetsIfNecessary']): CommitFn {
  return async (offsets) => {
    const byTopic = new Map<string, { partition: number; offset: string; metadata?: string }[]>()
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? []
      list.push({ partition: o.partition, offset: o.offset, ...(o.metadata !== undefined ? { metadata: o.metadata } : {}) })
      byTopic.set(o.topic, list)
    }
    await commitFn({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) })
  }
}

/** The batch loop's view of a kafkajs eachBatch payload. */
export function toFetchedBatch(payload: EachBatchPayload): FetchedBatch {
  const { batch } = payload
  return {
    topic: batch.topic,
    partition: batch.partition,
    highWatermark: batch.highWatermark,
    records: batch.messages,
    lastOffset: () => batch.lastOffset(),
    resolveOffset: (offset) => payload.resolveOffset(offset),
    heartbeat: () => payload.heartbeat(),
    isRunning: () => payload.isRunning(),
    isStale: () => payload.isStale(),
    commit: payloadCommit(payload.commitOffsetsIfNecessary),
  }
}
