/**
 * Producer spans: one `send <topic>` PRODUCER span per record, started in `send()` under the caller's active
 * context, whose context goes into the record's headers before the record is serialized, sized and batched,
 * and which ends when the record is acknowledged or fails.
 */
import type { Attributes, Link, Span, Tracer } from '@opentelemetry/api'
import { ATTR, creationContext, injectSpan, recordFailure, tracingApi } from './tracing.js'
import type { Headers } from './tracing.js'

/** What the send span says about the record and the producer. */
export interface SendSpanInput {
  topic: string
  /** An explicit partition from send(); otherwise the partition is set when the record is acknowledged. */
  partition: number | undefined
  /** The record's key before serialization: set as `messaging.kafka.message.key` only when it is a string. */
  key: unknown
  tombstone: boolean
  clientId: string
}

/**
 * Starts the send span of one record under the active context and injects its context into `headers`
 * (which the caller then serializes and sizes). A creation context already in the headers is kept and linked.
 */
export function startSendSpan(tracer: Tracer, input: SendSpanInput, headers: Headers): Span {
  const a = tracingApi()!
  const attributes: Attributes = {
    [ATTR.system]: 'kafka',
    [ATTR.destination]: input.topic,
    [ATTR.operationType]: 'send',
    [ATTR.operationName]: 'send',
    [ATTR.clientId]: input.clientId,
  }
  if (input.partition !== undefined) attributes[ATTR.partition] = String(input.partition)
  if (typeof input.key === 'string') attributes[ATTR.key] = input.key
  if (input.tombstone) attributes[ATTR.tombstone] = true
  const active = a.context.active()
  const custom = creationContext(a, headers)
  const links: Link[] | undefined = custom === undefined ? undefined : [{ context: custom }]
  const span = tracer.startSpan(`send ${input.topic}`, { kind: a.SpanKind.PRODUCER, attributes, links }, active)
  if (custom === undefined) injectSpan(a, span, active, headers)
  return span
}

/** Ends a send span: where the record landed, or why it failed. */
export function endSendSpan(span: Span, md: { partition: number; offset: string } | null, err: unknown): void {
  if (md !== null) {
    span.setAttribute(ATTR.partition, String(md.partition))
    if (md.offset !== '-1') span.setAttribute(ATTR.offset, Number(md.offset))
  }
  if (err !== null && err !== undefined) recordFailure(span, err)
  span.end()
}
