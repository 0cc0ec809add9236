/**
 * What a kafkajs error (or a protocol error code kafkatune's own requests got back) is: its protocol
 * type, whether kafkajs calls it retriable, and the kafkatune error that wraps it.
 */
import { KafkatuneError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

export const RESET_TYPES = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING'])
export const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])
export const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'])
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
export const TRANSIENT_TXN_TYPES = new Set([
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
