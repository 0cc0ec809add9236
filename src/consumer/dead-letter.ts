import type { IHeaders } from 'kafkajs'
import { KafkatuneError } from '../errors.js'

/** Header names a dead-lettered record carries, next to its original headers. */
export const DLQ_HEADERS = {
  topic: 'kafkatune.dlq.original.topic',
  partition: 'kafkatune.dlq.original.partition',
  offset: 'kafkatune.dlq.original.offset',
  timestamp: 'kafkatune.dlq.original.timestamp',
  errorName: 'kafkatune.dlq.error.name',
  errorCode: 'kafkatune.dlq.error.code',
  errorMessage: 'kafkatune.dlq.error.message',
  group: 'kafkatune.dlq.consumer.group',
  attempts: 'kafkatune.dlq.attempts',
} as const

/** The raw record as fetched, before deserialization. */
export interface RawRecord {
  topic: string
  partition: number
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
}

/** What to produce to the dead-letter topic for a record that failed: original bytes, original headers plus where and why. */
export function deadLetterRecord(
  raw: RawRecord,
  error: unknown,
  groupId: string,
  attempts: number,
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  const err = error instanceof Error ? error : new Error(String(error))
  // The failure name of interest is the user's error, not our wrapper.
  const root = err instanceof KafkatuneError && err.code === 'HANDLER_FAILED' && err.cause instanceof Error ? err.cause : err
  const headers: IHeaders = { ...raw.headers }
  headers[DLQ_HEADERS.topic] = raw.topic
  headers[DLQ_HEADERS.partition] = String(raw.partition)
  headers[DLQ_HEADERS.offset] = raw.offset
  headers[DLQ_HEADERS.timestamp] = raw.timestamp
  headers[DLQ_HEADERS.errorName] = root.name
  if (err instanceof KafkatuneError) headers[DLQ_HEADERS.errorCode] = err.code
  headers[DLQ_HEADERS.errorMessage] = root.message
  headers[DLQ_HEADERS.group] = groupId
  headers[DLQ_HEADERS.attempts] = String(attempts)
  return { key: raw.key, value: raw.value, headers }
}
