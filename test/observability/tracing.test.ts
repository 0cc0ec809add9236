import { afterEach, describe, expect, it } from 'vitest'
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { isTracingSuppressed, W3CTraceContextPropagator } from '@opentelemetry/core'
import { runWithRetries } from '../../src/consumer/retry.js'
import { activeTracer, headerGetter, headerSetter } from '../../src/observability/tracing.js'
import type { Headers } from '../../src/observability/tracing.js'
import { processTracer, recordDeadLetter } from '../../src/observability/tracing-consumer.js'
import { withTracingSuppressed } from '../../src/observability/tracing-kafkajs.js'
import { endSendSpan, startSendSpan } from '../../src/observability/tracing-producer.js'
import { KafkatuneError } from '../../src/errors.js'
import { parentId, startTestTracing } from '../fixtures/otel.js'
import type { TestTracing } from '../fixtures/otel.js'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const info = { groupId: 'g1', clientId: 'c1', keyDeserializer: { name: 'string' } }
const raw = (headers: Headers, offset = '42', key: Buffer | null = Buffer.from('k1')) => ({ topic: 'orders', partition: 3, offset, key, value: Buffer.from('v'), headers })

let tracing: TestTracing | null = null
afterEach(async () => {
  await tracing?.stop()
  tracing = null
})

describe('the header carrier', () => {
  it('reads Buffer, string and repeated headers (the last value wins) and writes Buffers', () => {
    const headers: Headers = { a: Buffer.from('x'), b: 'y', c: [Buffer.from('1'), '2'], d: undefined }
    expect(headerGetter.get(headers, 'a')).toBe('x')
    expect(headerGetter.get(headers, 'b')).toBe('y')
    expect(headerGetter.get(headers, 'c')).toBe('2')
    expect(headerGetter.get(headers, 'd')).toBeUndefined()
    expect(headerGetter.get(headers, 'missing')).toBeUndefined()
    expect(headerGetter.keys(headers)).toEqual(['a', 'b', 'c', 'd'])
    const out: Headers = {}
    headerSetter.set(out, 'traceparent', TRACEPARENT)
    expect(Buffer.isBuffer(out.traceparent)).toBe(true)
    expect(String(out.traceparent)).toBe(TRACEPARENT)
  })

  it('round-trips W3C trace context through Buffer headers', () => {
    const w3c = new W3CTraceContextPropagator()
    const ctx = w3c.extract(ROOT_CONTEXT, { traceparent: Buffer.from(TRACEPARENT), tracestate: Buffer.from('k=v') }, headerGetter)
    const sc = trace.getSpanContext(ctx)!
    expect(sc.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(sc.spanId).toBe('00f067aa0ba902b7')
    expect(sc.isRemote).toBe(true)
    const out: Headers = {}
    w3c.inject(ctx, out, headerSetter)
    expect(String(out.traceparent)).toBe(TRACEPARENT)
    expect(String(out.tracestate)).toBe('k=v')
  })
})

describe('without a tracer provider', () => {
  it('has no tracer and no process tracer', async () => {
    expect(activeTracer()).toBeNull()
    expect(processTracer(info)).toBeNull()
    // Registering a provider later turns tracing on; removing it turns it off again.
    tracing = startTestTracing()
    expect(activeTracer()).not.toBeNull()
    await tracing.stop()
    tracing = null
    expect(activeTracer()).toBeNull()
  })
})

describe('with a tracer provider', () => {
  it('a send span is a PRODUCER child of the active span, injected into the headers, ended with where the record landed', () => {
    tracing = startTestTracing()
    const parent = trace.getTracer('app').startSpan('request')
    const headers: Headers = {}
    const span = context.with(trace.setSpan(context.active(), parent), () =>
      startSendSpan(activeTracer()!, { topic: 'orders', partition: undefined, key: 'k1', tombstone: false, clientId: 'c1' }, headers),
    )
    endSendSpan(span, { partition: 2, offset: '17' }, null)
    parent.end()
    const [send] = tracing.spans().filter((s) => s.name === 'send orders')
    expect(send!.kind).toBe(SpanKind.PRODUCER)
    expect(parentId(send!)).toBe(parent.spanContext().spanId)
    expect(String(headers.traceparent)).toContain(send!.spanContext().spanId)
    expect(send!.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 17,
      'messaging.kafka.message.key': 'k1',
      'messaging.operation.type': 'send',
      'messaging.client.id': 'c1',
    })
    expect(send!.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('keeps a trace context the application put in the headers, and links to it', () => {
    tracing = startTestTracing()
    const headers: Headers = { traceparent: Buffer.from(TRACEPARENT) }
    endSendSpan(startSendSpan(activeTracer()!, { topic: 'orders', partition: 1, key: Buffer.from('b'), tombstone: true, clientId: 'c1' }, headers), null, new KafkatuneError('RECORD_TOO_LARGE', 'too big'))
    expect(String(headers.traceparent)).toBe(TRACEPARENT)
    const [send] = tracing.spans()
    expect(send!.links.map((l) => l.context.spanId)).toEqual(['00f067aa0ba902b7'])
    expect(send!.attributes['messaging.kafka.message.key']).toBeUndefined()
    expect(send!.attributes['messaging.kafka.message.tombstone']).toBe(true)
    expect(send!.status.code).toBe(SpanStatusCode.ERROR)
    expect(send!.attributes['error.type']).toBe('RECORD_TOO_LARGE')
    expect(send!.events.map((e) => e.name)).toEqual(['exception'])
  })

  it('a record is processed in a CONSUMER span whose parent is its creation context; retries and dead-lettering are events', async () => {
    tracing = startTestTracing()
    const pt = processTracer(info)!
    let calls = 0
    await pt.record(raw({ traceparent: Buffer.from(TRACEPARENT) }), async () => {
      const outcome = await runWithRetries(
        async () => {
          calls++
          trace.getTracer('app').startSpan('db').end()
          throw new TypeError('db down')
        },
        { attempts: 3, backoffMs: 1 },
        { sleep: async () => undefined },
      )
      expect(outcome.ok).toBe(false)
      recordDeadLetter('orders.dlq', 1, new KafkatuneError('HANDLER_FAILED', 'gave up'))
    })
    expect(calls).toBe(3)
    const spans = tracing.spans()
    const process = spans.find((s) => s.name === 'process orders')!
    expect(process.kind).toBe(SpanKind.CONSUMER)
    expect(process.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(parentId(process)).toBe('00f067aa0ba902b7')
    expect(process.links.map((l) => l.context.spanId)).toEqual(['00f067aa0ba902b7'])
    expect(process.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': '3',
      'messaging.kafka.offset': 42,
      'messaging.kafka.message.key': 'k1',
      'messaging.consumer.group.name': 'g1',
      'messaging.client.id': 'c1',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
    })
    expect(process.events.map((e) => e.name)).toEqual(['kafkatune.retry', 'kafkatune.retry', 'kafkatune.dead_letter', 'exception'])
    expect(process.events[1]!.attributes).toMatchObject({ 'kafkatune.retry.attempt': 2, 'error.type': 'TypeError', 'exception.message': 'db down' })
    expect(process.status.code).toBe(SpanStatusCode.ERROR)
    expect(process.attributes['error.type']).toBe('HANDLER_FAILED')
    const db = spans.filter((s) => s.name === 'db')
    expect(db).toHaveLength(3)
    for (const s of db) expect(parentId(s)).toBe(process.spanContext().spanId)
  })

  it('a batch is one span with a link per record and the message count', async () => {
    tracing = startTestTracing()
    const other = '00-11111111111111111111111111111111-2222222222222222-01'
    await processTracer(info)!.batch([raw({ traceparent: Buffer.from(TRACEPARENT) }, '1'), raw({ traceparent: other }, '2'), raw({}, '3')], async () => {
      trace.getTracer('app').startSpan('work').end()
    })
    const [work, batch] = tracing.spans()
    expect(batch!.name).toBe('process orders')
    expect(batch!.attributes['messaging.batch.message_count']).toBe(3)
    expect(batch!.attributes['messaging.kafka.offset']).toBeUndefined()
    expect(parentId(batch!)).toBeUndefined()
    expect(batch!.links.map((l) => l.context.traceId)).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', '11111111111111111111111111111111'])
    expect(parentId(work!)).toBe(batch!.spanContext().spanId)
  })

  it('runs kafkajs calls with tracing suppressed the way @opentelemetry/core reads it', () => {
    tracing = startTestTracing()
    expect(isTracingSuppressed(context.active())).toBe(false)
    expect(withTracingSuppressed(() => isTracingSuppressed(context.active()))).toBe(true)
    expect(withTracingSuppressed(() => trace.getTracer('x').startSpan('s').isRecording())).toBe(false)
    expect(propagation.fields()).toContain('traceparent')
  })
})
