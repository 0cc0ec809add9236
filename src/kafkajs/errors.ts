/**
 * The one classifier of kafkajs errors: what went wrong (the broker's error type or kafkajs' error name),
 * whether trying again can help, and what it means to a runtime (a rebalance, a fenced producer, a
 * producer that needs a new id, a record too large, a transaction answer that only says "not yet").
 * Producer, consumer, pipeline and admin all ask here, so one cause gets one `retriable` answer.
 */
import { KafkatuneError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

/** What a kafkajs error boils down to: its protocol error type (if any), name, retriability, message. */
export interface KafkajsErrorInfo {
  type: string | null
  name: string
  retriable: boolean
  message: string
}

/** kafkajs errors about the network or stale metadata: the same call can work a moment later. */
const RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSNoBrokerAvailableError',
])
const NETWORK = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|socket hang up|Connection timeout|Closed connection/i

/** Answers that mean the member must rejoin its group (kafkajs does that when the error reaches it). */
export const REBALANCE_TYPES: ReadonlySet<string> = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_COORDINATOR', 'FENCED_INSTANCE_ID'])
/** The producer id or sequence is no longer valid: a new producer id fixes it (outside a transaction). */
export const RESET_TYPES: ReadonlySet<string> = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING'])
/** Another producer with the same transactional id took over. */
export const FENCED_TYPES: ReadonlySet<string> = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])
export const TOO_LARGE_TYPES: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'])
/** Transaction and coordinator answers that mean "try again shortly", which kafkajs does not retry on its own. */
export const TRANSIENT_TXN_TYPES: ReadonlySet<string> = new Set([
  'CONCURRENT_TRANSACTIONS',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
])
/** Every answer that means "try again shortly": the transaction ones and a partition leader moving. */
export const TRANSIENT_TYPES: ReadonlySet<string> = new Set([
  ...TRANSIENT_TXN_TYPES,
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
])
const UNKNOWN_TOPIC_TYPES: ReadonlySet<string> = new Set(['UNKNOWN_TOPIC_OR_PARTITION'])
/** kafkajs knows error codes up to 88; PRODUCER_FENCED (90) arrives as an unknown code. */
const PRODUCER_FENCED_UNKNOWN = /Unknown error code 90\b/

/** Walks the kafkajs wrapper chain (retries exceeded, non-retriable wrappers) down to the real error. */
export function inspectKafkajsError(err: unknown): KafkajsErrorInfo {
  let e: unknown = err
  let info: KafkajsErrorInfo = { type: null, name: 'Error', retriable: false, message: String(err) }
  let retriable = false
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    const x = e as Error & { type?: unknown; retriable?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown }
    if (Array.isArray(x.errors) && x.errors.length > 0 && x.errors[0] instanceof Error) {
      // An aggregate ("Topic creation errors"): the causes are in its list, one per topic.
      const parts = x.errors as (Error & { type?: unknown; topic?: unknown })[]
      const inner = inspectKafkajsError(parts[0])
      const message = `${x.message}: ${parts.map((p) => `${typeof p.topic === 'string' ? `${p.topic}: ` : ''}${p.message}${typeof p.type === 'string' ? ` (${p.type})` : ''}`).join('; ')}`
      return { ...inner, retriable: inner.retriable || retriable, message }
    }
    const type = typeof x.type === 'string' ? x.type : info.type
    // Any link that is retriable by nature (a network error under a "retries exceeded" wrapper) makes the whole retriable.
    retriable ||= x.retriable === true || RETRIABLE_NAMES.has(x.name) || NETWORK.test(x.message) || (type !== null && TRANSIENT_TYPES.has(type))
    info = { type, name: x.name, retriable, message: x.message }
    if (PRODUCER_FENCED_UNKNOWN.test(x.message)) info.type = 'PRODUCER_FENCED'
    const next = x.cause ?? x.originalError
    if (next === undefined || next === e) break
    e = next
  }
  // Answers that are final whatever kafkajs' flag says (an unknown topic is not: it may be being created).
  if (info.type !== null && (FENCED_TYPES.has(info.type) || TOO_LARGE_TYPES.has(info.type))) info.retriable = false
  return info
}

/** The member has to rejoin its group (the error belongs to kafkajs' group handling, not to the caller). */
export function isRebalance(err: unknown): boolean {
  const { type } = inspectKafkajsError(err)
  return type !== null && REBALANCE_TYPES.has(type)
}

/** A transactional producer was fenced by a newer one with the same transactional id. */
export function isFenced(err: unknown): boolean {
  if (err instanceof KafkatuneError) return err.code === 'FENCED'
  const { type } = inspectKafkajsError(err)
  return type !== null && FENCED_TYPES.has(type)
}

/** Trying the same thing again (after a back-off) can succeed. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof KafkatuneError) return err.retriable
  return inspectKafkajsError(err).retriable
}

/** The code a kafkajs error gets when it leaves kafkatune (unless the caller knows better). */
function codeOf(info: KafkajsErrorInfo): ErrorCode {
  if (info.type !== null && UNKNOWN_TOPIC_TYPES.has(info.type)) return 'UNKNOWN_TOPIC'
  if (info.type !== null && TOO_LARGE_TYPES.has(info.type)) return 'RECORD_TOO_LARGE'
  if (info.type === 'PRODUCER_FENCED' || info.type === 'INVALID_PRODUCER_EPOCH') return 'FENCED'
  return 'KAFKA'
}

/**
 * Turns any kafkajs error into a `KafkatuneError`: `context` says what was being done, the broker's error
 * type is named, `retriable` comes from the classifier. A `KafkatuneError` passes through unchanged.
 */
export function kafkaError(err: unknown, context: string, options: { code?: ErrorCode; details?: Record<string, unknown> } = {}): KafkatuneError {
  if (err instanceof KafkatuneError) return err
  const info = inspectKafkajsError(err)
  const hint = info.name === 'KafkaJSNumberOfRetriesExceeded' || NETWORK.test(info.message) ? ' (is the broker address right and the broker up?)' : ''
  return new KafkatuneError(options.code ?? codeOf(info), `${context}: ${info.message}${info.type !== null ? ` (${info.type})` : ''}${hint}`, {
    cause: err,
    retriable: info.retriable,
    details: { ...(options.details ?? {}), kafkaError: info.type ?? info.name },
  })
}
