/**
 * Consumer spans: per record a `process <topic>` CONSUMER span whose parent is the creation context in the
 * record's headers (the semantic conventions allow that parent for single-message processing; the span also
 * links to it, as they ask of every process span), active while the handler runs so the handler's own spans
 * are its children. With eachBatch, one span for the batch, linked to each record's creation context.
 * Retries and dead-lettering are events on the span of the record (or batch) being processed.
 */
import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api'
import type { OtelApi } from './otel.js'
import { ATTR, activeTracer, extractContext, recordFailure, tracingApi, validSpanContext } from './tracing.js'
import type { Headers } from './tracing.js'

/** A fetched record as the consume loops hold it. */
export interface TracedRecord {
  topic: string
  partition: number
  offset: string
  key: Buffer | null
  value: Buffer | null
  headers: Headers
}

/** What the spans say about the consumer. */
export interface ConsumerTraceInfo {
  groupId: string
  clientId: string
  /** The key deserializer's name: keys go into `messaging.kafka.message.key` only when they are strings. */
  keyDeserializer: { name?: string }
}

/** Span events kafkatune records. */
export const EVENTS = {
  retry: 'kafkatune.retry',
  deadLetter: 'kafkatune.dead_letter',
} as const

let processSpanKey: symbol | undefined

/** The context key under which the process span of the record being handled is kept. */
function spanKey(a: OtelApi): symbol {
  processSpanKey ??= a.createContextKey('kafkatune.process-span')
  return processSpanKey
}

/** The process span of the record (or batch) being handled in this async context, if kafkatune traces it. */
export function currentProcessSpan(): Span | undefined {
  const a = tracingApi()
  if (a === null || processSpanKey === undefined) return undefined
  return a.context.active().getValue(processSpanKey) as Span | undefined
}

/** A handler call failed and will be retried after `backoffMs`: an event on the current process span. */
export function recordRetry(attempt: number, error: unknown, backoffMs: number): void {
  const span = currentProcessSpan()
  if (span === undefined) return
  span.addEvent(EVENTS.retry, {
    'kafkatune.retry.attempt': attempt,
    'kafkatune.retry.backoff_ms': backoffMs,
    [ATTR.errorType]: error instanceof Error ? error.name : typeof error,
    'exception.message': error instanceof Error ? error.message : String(error),
  })
}

/** Records (one, or a batch's) went to the dead-letter topic: an event, and the span fails with `error`. */
export function recordDeadLetter(deadLetterTopic: string, records: number, error: unknown): void {
  const span = currentProcessSpan()
  if (span === undefined) return
  span.addEvent(EVENTS.deadLetter, { [ATTR.destination]: deadLetterTopic, 'kafkatune.dead_letter.records': records })
  recordFailure(span, error)
}

/** Processing failed for good (the consumer stops on `error`): the current process span fails. */
export function recordProcessFailure(error: unknown): void {
  const span = currentProcessSpan()
  if (span !== undefined) recordFailure(span, error)
}

/** Starts and ends process spans for one consumer; `processTracer()` gives one only while tracing is on. */
export class ProcessTracer {
  constructor(
    private readonly a: OtelApi,
    private readonly tracer: Tracer,
    private readonly info: ConsumerTraceInfo,
  ) {}

  private common(topic: string, partition: number): Attributes {
    return {
      [ATTR.system]: 'kafka',
      [ATTR.destination]: topic,
      [ATTR.partition]: String(partition),
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.group]: this.info.groupId,
      [ATTR.clientId]: this.info.clientId,
    }
  }

  /** Runs `fn` with the `process <topic>` span of `raw` active; the span ends when `fn` settles. */
  record<T>(raw: TracedRecord, fn: () => Promise<T>): Promise<T> {
    const a = this.a
    const parent = extractContext(a, raw.headers)
    const creation = validSpanContext(a, parent)
    const attributes = this.common(raw.topic, raw.partition)
    attributes[ATTR.offset] = Number(raw.offset)
    if (raw.key !== null && this.info.keyDeserializer.name === 'string') attributes[ATTR.key] = raw.key.toString('utf8')
    if (raw.value === null) attributes[ATTR.tombstone] = true
    const links: Link[] = creation === undefined ? [] : [{ context: creation }]
    const span = this.tracer.startSpan(`process ${raw.topic}`, { kind: a.SpanKind.CONSUMER, attributes, links }, parent)
    return this.run(span, parent, fn)
  }

  /** Runs `fn` (an eachBatch call over `raws`) with one `process <topic>` span active, linked to each record's creation context. */
  batch<T>(raws: readonly TracedRecord[], fn: () => Promise<T>): Promise<T> {
    const a = this.a
    const first = raws[0]
    if (first === undefined) return fn()
    const links: Link[] = []
    for (const raw of raws) {
      const creation = validSpanContext(a, extractContext(a, raw.headers))
      if (creation !== undefined) links.push({ context: creation })
    }
    const attributes = this.common(first.topic, first.partition)
    attributes[ATTR.batchCount] = raws.length
    // A batch has no single parent: a new trace, tied to its records by the links.
    const span = this.tracer.startSpan(`process ${first.topic}`, { kind: a.SpanKind.CONSUMER, attributes, links }, a.ROOT_CONTEXT)
    return this.run(span, a.ROOT_CONTEXT, fn)
  }

  private async run<T>(span: Span, parent: Context, fn: () => Promise<T>): Promise<T> {
    const ctx = this.a.trace.setSpan(parent, span).setValue(spanKey(this.a), span)
    try {
      return await this.a.context.with(ctx, fn)
    } catch (err) {
      recordFailure(span, err)
      throw err
    } finally {
      span.end()
    }
  }
}

/** A process tracer for this consumer, or null while tracing is off (then records are handled as they are). */
export function processTracer(info: ConsumerTraceInfo): ProcessTracer | null {
  const tracer = activeTracer()
  const a = tracingApi()
  return tracer === null || a === null ? null : new ProcessTracer(a, tracer, info)
}
