/**
 * What a kafkajs error (or the protocol error code of one of kafkatune's own requests) means for the
 * producer: its protocol type, retriability, the kafkatune error that wraps it, and how a failed produce
 * request is handled (see `FailureKind`).
 */
import { KafkatuneError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import type { FailureKind, OutboundBatch, SendFailure } from './sender.js'

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

/** Classifies a failed produce request. */
export function classifyProduceError(err: unknown, transactional: boolean, batches: readonly OutboundBatch[]): SendFailure {
  if (err instanceof KafkatuneError) return { kind: err.code === 'FENCED' ? 'fenced' : 'fatal', error: err }
  if (err instanceof Error && err.name === 'SequenceResetNeeded') {
    return { kind: 'reset', error: new KafkatuneError('KAFKA', `Produce needs a new producer id: ${err.message}`, { cause: err, retriable: true }) }
  }
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
