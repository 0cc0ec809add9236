/**
 * Pipeline spans: each input record's transform runs inside a `process <topic>` span in the input's trace
 * (as a consumer's handler does), and the output records carry that span's context onward in their headers;
 * each transaction gets one span that ends with its commit or abort.
 */
import type { Attributes, Link, Span } from '@opentelemetry/api'
import { KafkatuneError } from '../errors.js'
import { currentProcessSpan, processTracer, recordDeadLetter } from './tracing-consumer.js'
import type { ConsumerTraceInfo, TracedRecord } from './tracing-consumer.js'
import { ATTR, activeTracer, creationContext, injectSpan, recordFailure, tracingApi } from './tracing.js'
import type { Headers } from './tracing.js'

/** What the pipeline's spans say about it. */
export interface PipelineTraceInfo extends ConsumerTraceInfo {
  deadLetterTopic: string | null
}

/** Output records per topic, as the pipeline collects them. */
type Outputs = Map<string, { headers?: Headers }[]>

/**
 * Runs `transform(raw)` inside the input record's trace and puts the context of its process span into the
 * headers of every output record (a context the transform put there itself is kept). Outputs bound for the
 * dead-letter topic keep the input's headers as they are and show as a dead-letter event.
 */
export function traceTransform<R extends TracedRecord, O extends Outputs>(info: PipelineTraceInfo, raw: R, transform: (raw: R) => Promise<O>): Promise<O> {
  const tracer = processTracer(info)
  if (tracer === null) return transform(raw)
  return tracer.record(raw, async () => {
    const outputs = await transform(raw)
    const a = tracingApi()!
    const span = currentProcessSpan()!
    const active = a.context.active()
    for (const [topic, records] of outputs) {
      if (topic === info.deadLetterTopic) {
        recordDeadLetter(topic, records.length, new KafkatuneError('HANDLER_FAILED', `transform failed for ${raw.topic}[${raw.partition}]@${raw.offset}: the record went to the dead-letter topic`, { retriable: false }))
        continue
      }
      for (const rec of records) {
        if (rec.headers !== undefined && creationContext(a, rec.headers) !== undefined) continue
        // A copy: the transform may have handed out a headers object it still uses (an input's, say).
        const headers: Headers = { ...rec.headers }
        injectSpan(a, span, active, headers)
        rec.headers = headers
      }
    }
    return outputs
  })
}

/** The parts of a kafkajs transaction the pipeline uses. */
interface TransactionLike {
  sendBatch(...args: never[]): Promise<unknown>
  sendOffsets(...args: never[]): Promise<unknown>
  commit(): Promise<unknown>
  abort(): Promise<unknown>
  isActive(): boolean
}

/** The transaction's chunk: its input partition and records, and how many records it writes. */
export interface TransactionTraceInput {
  topic: string
  partition: number
  inputs: readonly { headers?: Headers }[]
  outputs: number
}

/**
 * `tx` with a `transaction <topic>` span from now until its commit or abort (an event each; an abort or a
 * failure is an error), linked to the creation context of each input record. `tx` itself while tracing is off.
 */
export function traceTransaction<T extends TransactionLike>(tx: T, info: PipelineTraceInfo, chunk: TransactionTraceInput): T {
  const tracer = activeTracer()
  const a = tracingApi()
  if (tracer === null || a === null) return tx
  const links: Link[] = []
  for (const m of chunk.inputs) {
    const sc = m.headers === undefined ? undefined : creationContext(a, m.headers)
    if (sc !== undefined) links.push({ context: sc })
  }
  const attributes: Attributes = {
    [ATTR.system]: 'kafka',
    [ATTR.destination]: chunk.topic,
    [ATTR.partition]: String(chunk.partition),
    [ATTR.group]: info.groupId,
    [ATTR.clientId]: info.clientId,
    [ATTR.batchCount]: chunk.inputs.length,
    'kafkatune.transaction.outputs': chunk.outputs,
  }
  const span: Span = tracer.startSpan(`transaction ${chunk.topic}`, { kind: a.SpanKind.INTERNAL, attributes, links }, a.ROOT_CONTEXT)
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    span.end()
  }
  const failed = (err: unknown): void => {
    if (!ended) recordFailure(span, err)
  }
  const step =
    <A extends never[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args)
      } catch (err) {
        failed(err)
        // The pipeline aborts an open transaction; one that kafkajs already closed ends here.
        if (!tx.isActive()) end()
        throw err
      }
    }
  return {
    ...tx,
    sendBatch: step(tx.sendBatch.bind(tx)),
    sendOffsets: step(tx.sendOffsets.bind(tx)),
    async commit() {
      try {
        const r = await tx.commit()
        if (!ended) span.addEvent('kafkatune.transaction.commit')
        return r
      } catch (err) {
        failed(err)
        throw err
      } finally {
        end()
      }
    },
    async abort() {
      try {
        const r = await tx.abort()
        if (!ended) {
          span.addEvent('kafkatune.transaction.abort')
          span.setStatus({ code: a.SpanStatusCode.ERROR, message: 'transaction aborted' })
        }
        return r
      } catch (err) {
        failed(err)
        throw err
      } finally {
        end()
      }
    },
  }
}
