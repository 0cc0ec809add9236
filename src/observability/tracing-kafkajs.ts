/**
 * kafkatune's own kafkajs clients stay out of kafkajs auto-instrumentation. kafkatune traces its records
 * itself; `@opentelemetry/instrumentation-kafkajs` (and instrumentations that wrap kafkajs the same way)
 * would add a second set: a `poll` span per fetched batch with `process` spans per record under it, a
 * `send` span per record the dead-letter producer or the pipeline writes (whose context would replace the
 * one kafkatune put in the headers) and a bare `transaction` span. Their wrappers on kafkatune's clients
 * are detected and bypassed, and kafkatune's kafkajs producer calls run with tracing suppressed, which
 * covers instrumentations that respect the suppression key instead. Other kafkajs clients in the process
 * (the application's own) keep their instrumentation.
 */
import { tracingApi } from './tracing.js'

/** A function wrapped by OpenTelemetry's shimmer (what `isWrapped` from @opentelemetry/instrumentation checks). */
interface Shimmed {
  __original?: unknown
  __wrapped?: unknown
}

type Method = (...args: unknown[]) => unknown

/** `fn` without any shimmer wrappers around it. */
export function unwrapped<F>(fn: F): F {
  let f: unknown = fn
  for (let i = 0; i < 16 && typeof f === 'function' && (f as Shimmed).__wrapped === true && typeof (f as Shimmed).__original === 'function'; i++) {
    f = (f as Shimmed).__original
  }
  return f as F
}

/** True when some shimmer wrapper sits on `fn` (an instrumentation patched it). */
export function isInstrumented(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as Shimmed).__wrapped === true && typeof (fn as Shimmed).__original === 'function'
}

/** The key @opentelemetry/core's `suppressTracing` sets (context keys are `Symbol.for` their description). */
const SUPPRESS_TRACING = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING'

/** Runs `fn` with tracing suppressed, when the OpenTelemetry API is installed. */
export function withTracingSuppressed<T>(fn: () => T): T {
  const a = tracingApi()
  if (a === null) return fn()
  return a.context.with(a.context.active().setValue(a.createContextKey(SUPPRESS_TRACING), true), fn)
}

const PRODUCER_METHODS = ['send', 'sendBatch', 'transaction'] as const
const CONSUMER_METHODS = ['run'] as const

function hide(client: Record<string, unknown>, methods: readonly string[], suppress: boolean): void {
  for (const name of methods) {
    const current = client[name]
    if (typeof current !== 'function') continue
    const original = unwrapped(current as Method)
    if (!suppress) {
      if (original !== current) client[name] = original
      continue
    }
    client[name] = function (this: unknown, ...args: unknown[]) {
      return withTracingSuppressed(() => original.apply(this, args))
    }
  }
}

/**
 * Makes the producers and consumers `kafka` creates invisible to kafkajs auto-instrumentation: wrapped
 * methods are replaced by kafkajs's own, and producer calls run with tracing suppressed. A consumer's `run`
 * is only unwrapped: suppressing there would also silence the application's listeners of consumer events.
 */
export function hideFromKafkajsInstrumentation(kafka: object): void {
  const k = kafka as Record<'producer' | 'consumer', Method>
  const producer = k.producer
  const consumer = k.consumer
  const suppress = tracingApi() !== null
  k.producer = function (this: unknown, ...args: unknown[]) {
    const client = producer.apply(this, args) as Record<string, unknown>
    hide(client, PRODUCER_METHODS, suppress)
    return client
  }
  k.consumer = function (this: unknown, ...args: unknown[]) {
    const client = consumer.apply(this, args) as Record<string, unknown>
    hide(client, CONSUMER_METHODS, false)
    return client
  }
}
