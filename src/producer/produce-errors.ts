/**
 * What a kafkajs error (or the protocol error code of one of kafkatune's own requests) means for the
 * producer: its protocol type, retriability, the kafkatune error that wraps it, and how a failed produce
 * request is handled (see `FailureKind`).
 */
import { KafkatuneError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import { FENCED_TYPES, RESET_TYPES, TOO_LARGE_TYPES, inspectKafkajsError, kafkaError as toKafkatuneError } from '../kafkajs/errors.js'
import type { FailureKind, OutboundBatch, SendFailure } from './sender.js'

export { FENCED_TYPES, RESET_TYPES, TOO_LARGE_TYPES, TRANSIENT_TXN_TYPES, inspectKafkajsError } from '../kafkajs/errors.js'
export type { KafkajsErrorInfo } from '../kafkajs/errors.js'

/** Turns any kafkajs error into a `KafkatuneError` with the given code (the one classifier decides `retriable`). */
export function kafkaError(err: unknown, code: ErrorCode, context: string, details: Record<string, unknown> = {}): KafkatuneError {
  return toKafkatuneError(err, context, { code, details })
}

/** Classifies a failed produce request. */
export function classifyProduceError(err: unknown, transactional: boolean, batches: readonly OutboundBatch[]): SendFailure {
  if (err instanceof KafkatuneError) return { kind: err.code === 'FENCED' ? 'fenced' : 'fatal', error: err }
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
  const failure: SendFailure = { kind, error: new KafkatuneError(code, message, { cause: err, retriable: kind === 'retriable', details }) }
  if (type === 'OUT_OF_ORDER_SEQUENCE_NUMBER') failure.outOfOrder = true
  return failure
}
