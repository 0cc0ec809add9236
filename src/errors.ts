/**
 * Every failure kafkatune reports is a `KafkatuneError` with a stable `code`.
 * The README has one row per code.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'BUFFER_EXHAUSTED',
  'DELIVERY_TIMEOUT',
  'RECORD_TOO_LARGE',
  'INVALID_PARTITION',
  'SERIALIZATION',
  'DESERIALIZATION',
  'CORRUPT_RECORD',
  'NO_COMMITTED_OFFSET',
  'UNKNOWN_TOPIC',
  'OFFSET_OUT_OF_RANGE',
  'FENCED',
  'TRANSACTION_ABORTED',
  'HANDLER_FAILED',
  'MAX_POLL_INTERVAL_EXCEEDED',
  'NOT_CONNECTED',
  'AUTHENTICATION',
  'TLS',
  'CLOSED',
  'KAFKA',
  'HARNESS',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** Codes a caller may retry as they are (the same call can succeed later). */
const RETRIABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BUFFER_EXHAUSTED',
  'DELIVERY_TIMEOUT',
  'NOT_CONNECTED',
])

export interface KafkatuneErrorOptions {
  cause?: unknown
  retriable?: boolean
  /** Extra structured context (topic, partition, offset, ...). Never secrets. */
  details?: Record<string, unknown>
}

/** The one error type kafkatune throws or rejects with. */
export class KafkatuneError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, options: KafkatuneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'KafkatuneError'
    this.code = code
    this.retriable = options.retriable ?? RETRIABLE_BY_DEFAULT.has(code)
    this.details = Object.freeze({ ...(options.details ?? {}) })
  }
}

/** One problem found while resolving a configuration. */
export interface ConfigProblem {
  /** The option (or options, comma-separated) the problem is about. */
  option: string
  /** What is wrong and how to fix it. */
  message: string
}

/** A configuration that cannot be used; lists every problem found, not just the first. */
export class ConfigError extends KafkatuneError {
  readonly problems: readonly ConfigProblem[]

  constructor(problems: readonly ConfigProblem[], context = 'configuration') {
    const lines = problems.map((p) => `  - ${p.option}: ${p.message}`).join('\n')
    super('CONFIG_INVALID', `Invalid ${context} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
      retriable: false,
    })
    this.name = 'ConfigError'
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })))
  }
}

/** True for any kafkatune error, optionally of one code. */
export function isKafkatuneError(err: unknown, code?: ErrorCode): err is KafkatuneError {
  return err instanceof KafkatuneError && (code === undefined || err.code === code)
}
