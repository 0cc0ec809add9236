/**
 * Pipeline tracing on the consumer runtime: the batch loop runs each transform inside the input record's
 * `process <topic>` span; the outputs carry that span's context onward in their headers (a context the
 * transform put there itself is kept), and each transaction gets one `transaction <topic>` span, linked to
 * its inputs' creation contexts, that ends with its commit or abort (the output sends are its children).
 */
import type { Attributes, Link } from '@opentelemetry/api'
import { currentProcessSpan } from '../observability/tracing-consumer.js'
import { ATTR, activeTracer, creationContext, injectSpan, recordFailure, tracingApi } from '../observability/tracing.js'
import type { Headers } from '../observability/tracing.js'
import type { ProducerHeaders } from '../producer/types.js'
import type { StagedRecord } from './producer-pool.js'

/** True while a tracer provider is registered (the pipeline then keeps each input's headers for links). */
export function tracing(): boolean {
  return activeTracer() !== null
}

/** Puts the current process span's context into the headers of `records` that carry none (as copies). */
export function carryTrace<K, V>(records: StagedRecord<K, V>[]): void {
  const a = tracingApi()
  const span = a === null ? undefined : currentProcessSpan()
  if (a === null || span === undefined) return
  const active = a.context.active()
  for (const s of records) {
    const own = s.record.headers as Headers | undefined
    if (own !== undefined && creationContext(a, own) !== undefined) continue
    // A copy: the transform may have handed out a headers object it still uses (an input's, say).
    const headers: Headers = { ...own }
    injectSpan(a, span, active, headers)
    s.record = { ...s.record, headers: headers as ProducerHeaders }
  }
}

/** What one transaction's span says: its input partition, the inputs' headers (for links), its outputs. */
export interface TransactionSpanInput {
  groupId: string
  clientId: string
  topic: string
  partition: number
  inputs: readonly Headers[]
  outputs: number
}

/** Runs `fn` (one transaction) inside a `transaction <topic>` span; `fn` alone while tracing is off. */
export async function inTransactionSpan<T>(t: TransactionSpanInput, fn: () => Promise<T>): Promise<T> {
  const tracer = activeTracer()
  const a = tracingApi()
  if (tracer === null || a === null) return fn()
  const links: Link[] = []
  for (const h of t.inputs) {
    const sc = creationContext(a, h)
    if (sc !== undefined) links.push({ context: sc })
  }
  const attributes: Attributes = {
    [ATTR.system]: 'kafka',
    [ATTR.destination]: t.topic,
    [ATTR.partition]: String(t.partition),
    [ATTR.group]: t.groupId,
    [ATTR.clientId]: t.clientId,
    [ATTR.batchCount]: t.inputs.length,
    'kafkatune.transaction.outputs': t.outputs,
  }
  const span = tracer.startSpan(`transaction ${t.topic}`, { kind: a.SpanKind.INTERNAL, attributes, links }, a.ROOT_CONTEXT)
  try {
    const result = await a.context.with(a.trace.setSpan(a.ROOT_CONTEXT, span), fn)
    span.addEvent('kafkatune.transaction.commit')
    return result
  } catch (err) {
    span.addEvent('kafkatune.transaction.abort')
    recordFailure(span, err)
    throw err
  } finally {
    span.end()
  }
}
