/**
 * The tracing core: kafkatune's tracer from the application's global tracer provider, the W3C trace context
 * carried in record headers, and the attribute names of the OpenTelemetry messaging semantic conventions
 * (Kafka). Everything goes through `@opentelemetry/api` only; when it is absent or no tracer provider is
 * registered, `activeTracer()` answers null and callers skip tracing altogether (no span, no header, no closure).
 */
import type { Context, Span, SpanContext, TextMapGetter, TextMapSetter, Tracer, TracerProvider } from '@opentelemetry/api'
import { otelApi } from './otel.js'
import type { OtelApi } from './otel.js'

/** Attribute names from the OpenTelemetry messaging semantic conventions (Kafka) that kafkatune sets. */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  offset: 'messaging.kafka.offset',
  key: 'messaging.kafka.message.key',
  tombstone: 'messaging.kafka.message.tombstone',
  group: 'messaging.consumer.group.name',
  clientId: 'messaging.client.id',
  batchCount: 'messaging.batch.message_count',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  errorType: 'error.type',
} as const

/** The instrumentation scope of kafkatune's spans. */
export const TRACER_NAME = 'kafkatune'

/** Header values as kafkajs and kafkatune carry them. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined
export type Headers = Record<string, HeaderValue>

let api: OtelApi | null | undefined
/** Where `@opentelemetry/api` 1.x registers its global providers. */
const OTEL_GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1')
let noopProvider: unknown
let lastDelegate: unknown
let lastTracer: Tracer | null = null

/** The loaded API module, or null (cached). */
export function tracingApi(): OtelApi | null {
  if (api === undefined) {
    api = otelApi()
    // The delegate a ProxyTracerProvider reports while nothing is registered.
    if (api !== null) noopProvider = new api.ProxyTracerProvider().getDelegate()
  }
  return api
}

function isNoop(provider: unknown): boolean {
  // A second copy of the API has its own no-op singleton: its class name still tells.
  return provider === noopProvider || (provider as { constructor?: { name?: string } } | null)?.constructor?.name === 'NoopTracerProvider'
}

/**
 * kafkatune's tracer from the global tracer provider, or null when `@opentelemetry/api` is not installed or
 * no provider is registered. Cheap enough to ask per record: a few property reads, no allocation.
 */
export function activeTracer(): Tracer | null {
  const a = api === undefined ? tracingApi() : api
  if (a === null) return null
  // Nothing registered a tracer provider (the API keeps its globals under this key; the peer range is ^1):
  // answer without the API's version checks, which cost ~2% of the client CPU when asked per record.
  if ((globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL_KEY]?.trace === undefined) {
    lastDelegate = undefined
    lastTracer = null
    return null
  }
  const proxy = a.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider }
  const delegate = typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : proxy
  if (delegate !== lastDelegate) {
    lastDelegate = delegate
    lastTracer = isNoop(delegate) ? null : delegate.getTracer(TRACER_NAME)
  }
  return lastTracer
}

/** Reads headers as kafkajs hands them out: Buffer or string values, a repeated name's last value wins. */
export const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const v = carrier[key]
    const last = Array.isArray(v) ? v[v.length - 1] : v
    if (last === undefined) return undefined
    return typeof last === 'string' ? last : last.toString('utf8')
  },
}

/** Writes header values as Buffers (what a record carries on the wire). */
export const headerSetter: TextMapSetter<Headers> = {
  set(carrier, key, value) {
    carrier[key] = Buffer.from(value, 'utf8')
  },
}

/** The context the record's headers carry (its creation context), on top of the root context. */
export function extractContext(a: OtelApi, headers: Headers): Context {
  return a.propagation.extract(a.ROOT_CONTEXT, headers, headerGetter)
}

/** The valid span context in `ctx`, if any. */
export function validSpanContext(a: OtelApi, ctx: Context): SpanContext | undefined {
  const sc = a.trace.getSpanContext(ctx)
  return sc !== undefined && a.isSpanContextValid(sc) ? sc : undefined
}

/** The creation context the headers already carry, if any (the semantic conventions say it is kept as it is). */
export function creationContext(a: OtelApi, headers: Headers): SpanContext | undefined {
  return validSpanContext(a, extractContext(a, headers))
}

/** Writes `span`'s context (on top of `base`) into `headers`, with the registered propagator. */
export function injectSpan(a: OtelApi, span: Span, base: Context, headers: Headers): void {
  a.propagation.inject(a.trace.setSpan(base, span), headers, headerSetter)
}

/** `error.type`: a kafkatune error's code, else the error's class name. */
export function errorType(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && (err as { name?: unknown }).name === 'KafkatuneError') return code
    const name = (err as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof name === 'string' && name !== '' && name !== 'Object') return name
  }
  return '_OTHER'
}

/** Marks `span` failed with `err`: error status, `error.type`, and the exception as an event. */
export function recordFailure(span: Span, err: unknown): void {
  const a = api
  if (a === null || a === undefined) return
  span.setAttribute(ATTR.errorType, errorType(err))
  if (err instanceof Error) span.recordException(err)
  else span.recordException(String(err))
  span.setStatus({ code: a.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) })
}
