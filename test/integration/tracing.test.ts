/**
 * Tracing against a real broker, with @opentelemetry/instrumentation-kafkajs registered in the same process
 * (as the auto-instrumentations bundle does): kafkatune's spans only, exactly one of each per record.
 */
import { createRequire } from 'node:module'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Span } from '@opentelemetry/api'
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer } from '../../src/consumer/index.js'
import { createPipeline } from '../../src/index.js'
import { createProducer } from '../../src/producer/index.js'
import type { Producer } from '../../src/producer/index.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { quietLogger, readAll } from '../fixtures/consumer-helpers.js'
import { parentId, startTestTracing } from '../fixtures/otel.js'
import type { TestTracing } from '../fixtures/otel.js'

// Registered before kafkajs is required, as an application's instrumentation setup does: it patches kafkajs's
// prototypes, so kafkatune's clients would be instrumented too unless kafkatune keeps them out.
const instrumentation = new KafkaJsInstrumentation()
createRequire(import.meta.url)('kafkajs')

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }
const consumers: Consumer<unknown, unknown>[] = []
const producers: Producer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((c) => c.disconnect()))
  await Promise.allSettled(producers.splice(0).map((p) => p.disconnect()))
})
afterAll(() => instrumentation.disable())

const app = () => trace.getTracer('app')
const KAFKAJS_SCOPE = '@opentelemetry/instrumentation-kafkajs'

/** Sends `value` from inside a new `request` span; returns that span's trace id. */
async function sendInSpan(producer: Producer, topic: string, value: string, key = value): Promise<string> {
  const parent = app().startSpan('request')
  try {
    await context.with(trace.setSpan(context.active(), parent), () => producer.send({ topic, key, value }))
  } finally {
    parent.end()
  }
  return parent.spanContext().traceId
}

function newProducer(): Producer {
  const p = createProducer({ brokers: brokers(), logger: quietLogger(), lingerMs: 5 })
  producers.push(p as Producer<unknown, unknown>)
  return p
}

function newConsumer(topic: string, extra: Record<string, unknown> = {}): Consumer {
  const c = createConsumer({ brokers: brokers(), groupId: uniqueName('g'), topics: [topic], logger: quietLogger(), autoOffsetReset: 'earliest', ...fast, ...extra })
  consumers.push(c as Consumer<unknown, unknown>)
  return c
}

/** The handler's own span, as an application's HTTP or DB call would make. */
function handlerSpan(): void {
  app().startSpan('handle').end()
}

describe('without a tracer provider', () => {
  it('sends records without trace headers', async () => {
    const topic = uniqueName('trace-off')
    await createTopic(topic, 1)
    const producer = newProducer()
    await producer.connect()
    await producer.send({ topic, key: 'k', value: 'v', headers: { mine: 'x' } })
    const [rec] = await readAll(topic, 1)
    expect(Object.keys(rec!.headers)).toEqual(['mine'])
  })
})

describe('with a tracer provider and instrumentation-kafkajs registered', () => {
  let tracing: TestTracing
  beforeAll(() => {
    tracing = startTestTracing()
    instrumentation.setTracerProvider(tracing.provider)
  })
  afterAll(async () => {
    await tracing.stop()
  })
  const inTrace = (traceId: string): ReadableSpan[] => tracing.spans().filter((s) => s.spanContext().traceId === traceId)
  const named = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name)

  it('a record produced inside a span is consumed in the same trace: exactly one send and one process span per record and group', async () => {
    const topic = uniqueName('trace')
    const control = uniqueName('trace-control')
    await createTopic(topic, 2)
    await createTopic(control, 1)
    // The instrumentation is live: a plain kafkajs producer gets its send span.
    const plain = testKafka().producer()
    await plain.connect()
    await plain.send({ topic: control, messages: [{ value: 'c' }] })
    await plain.disconnect()
    expect(tracing.spans().filter((s) => s.instrumentationScope.name === KAFKAJS_SCOPE).map((s) => s.name)).toEqual([`send ${control}`])

    const producer = newProducer()
    await producer.connect()
    const traces: string[] = []
    for (let i = 0; i < 6; i++) traces.push(await sendInSpan(producer, topic, `v${i}`, `k${i}`))

    let inOrder = 0
    let byKey = 0
    const a = newConsumer(topic)
    const b = newConsumer(topic, { ordering: 'key', concurrency: 4 })
    await a.connect()
    await b.connect()
    await a.run({ eachMessage: async () => void (handlerSpan(), inOrder++) })
    await b.run({ eachMessage: async () => void (handlerSpan(), byKey++) })
    await waitFor(() => inOrder >= 6 && byKey >= 6 && traces.every((t) => named(inTrace(t), `process ${topic}`).length === 2), 60_000)
    await a.stop()
    await b.stop()

    expect(tracing.spans().filter((s) => s.instrumentationScope.name === KAFKAJS_SCOPE)).toHaveLength(1)
    for (const t of traces) {
      const spans = inTrace(t)
      const [request] = named(spans, 'request')
      const [send] = named(spans, `send ${topic}`)
      const processes = named(spans, `process ${topic}`)
      const handles = named(spans, 'handle')
      expect(spans).toHaveLength(6)
      expect(handles).toHaveLength(2)
      expect(send!.kind).toBe(SpanKind.PRODUCER)
      expect(parentId(send!)).toBe(request!.spanContext().spanId)
      expect(send!.attributes['messaging.kafka.offset']).toEqual(expect.any(Number))
      expect(new Set(processes.map((p) => p.attributes['messaging.consumer.group.name'])).size).toBe(2)
      for (const p of processes) {
        expect(p.kind).toBe(SpanKind.CONSUMER)
        expect(p.instrumentationScope.name).toBe('kafkatune')
        expect(parentId(p)).toBe(send!.spanContext().spanId)
        expect(p.attributes['messaging.kafka.offset']).toBe(send!.attributes['messaging.kafka.offset'])
        expect(p.attributes['messaging.destination.partition.id']).toBe(send!.attributes['messaging.destination.partition.id'])
      }
      expect(handles.map(parentId).sort()).toEqual(processes.map((p) => p.spanContext().spanId).sort())
    }
  })

  it('a failed send ends its span with an error status and the exception', async () => {
    const topic = uniqueName('trace-fail')
    await createTopic(topic, 1)
    const producer = createProducer({ brokers: brokers(), logger: quietLogger(), maxRequestSize: 2048 })
    producers.push(producer as Producer<unknown, unknown>)
    await producer.connect()
    let traceId = ''
    await app().startActiveSpan('request', async (parent: Span) => {
      traceId = parent.spanContext().traceId
      await expect(producer.send({ topic, value: 'x'.repeat(10_000) })).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE' })
      parent.end()
    })
    const [send] = named(inTrace(traceId), `send ${topic}`)
    expect(send!.status.code).toBe(SpanStatusCode.ERROR)
    expect(send!.attributes['error.type']).toBe('RECORD_TOO_LARGE')
    expect(send!.events.map((e) => e.name)).toEqual(['exception'])
  })

  it('retries and dead-lettering are events on the record span; the dead-letter record keeps the trace context', async () => {
    const topic = uniqueName('trace-retry')
    const dlq = uniqueName('trace-dlq')
    await createTopic(topic, 1)
    await createTopic(dlq, 1)
    const producer = newProducer()
    await producer.connect()
    const traceId = await sendInSpan(producer, topic, 'poison')
    const consumer = newConsumer(topic, { retry: { attempts: 3, backoffMs: 10 }, deadLetterTopic: dlq })
    await consumer.connect()
    await consumer.run({
      eachMessage: async () => {
        handlerSpan()
        throw new TypeError('cannot handle')
      },
    })
    await waitFor(() => named(inTrace(traceId), `process ${topic}`).length === 1, 60_000)
    await consumer.stop()
    const spans = inTrace(traceId)
    // request, send, process, three handler attempts, and the dead-letter producer's send (a kafkatune producer)
    expect(spans).toHaveLength(3 + 3 + 1)
    const [send] = named(spans, `send ${topic}`)
    const [process] = named(spans, `process ${topic}`)
    expect(named(spans, `send ${dlq}`).map(parentId)).toEqual([process!.spanContext().spanId])
    expect(process!.events.map((e) => e.name)).toEqual(['kafkatune.retry', 'kafkatune.retry', 'kafkatune.dead_letter', 'exception'])
    expect(process!.events[2]!.attributes).toMatchObject({ 'messaging.destination.name': dlq })
    expect(process!.status.code).toBe(SpanStatusCode.ERROR)
    expect(process!.attributes['error.type']).toBe('HANDLER_FAILED')
    expect(tracing.spans().filter((s) => s.instrumentationScope.name === KAFKAJS_SCOPE && s.name.endsWith(dlq))).toHaveLength(0)
    const [dead] = await readAll(dlq, 1)
    expect(String(dead!.headers.traceparent)).toBe(`00-${traceId}-${send!.spanContext().spanId}-01`)
  })

  it('eachBatch gets one span per batch, linked to each record', async () => {
    const topic = uniqueName('trace-batch')
    await createTopic(topic, 1)
    const producer = newProducer()
    await producer.connect()
    const traces = await Promise.all(['a', 'b', 'c'].map((v) => sendInSpan(producer, topic, v)))
    const consumer = newConsumer(topic)
    await consumer.connect()
    let seen = 0
    await consumer.run({
      eachBatch: async (msgs) => {
        handlerSpan()
        seen += msgs.length
      },
    })
    await waitFor(() => seen >= 3, 60_000)
    await consumer.stop()
    const batches = named(tracing.spans(), `process ${topic}`)
    expect(batches.length).toBeGreaterThanOrEqual(1)
    expect(batches.reduce((n, b) => n + Number(b.attributes['messaging.batch.message_count']), 0)).toBe(3)
    expect(batches.flatMap((b) => b.links.map((l) => l.context.traceId)).sort()).toEqual([...traces].sort())
    for (const b of batches) {
      expect(parentId(b)).toBeUndefined()
      expect(named(tracing.spans(), 'handle').filter((h) => parentId(h) === b.spanContext().spanId)).toHaveLength(1)
    }
    // The records' own traces hold only what the producer made.
    for (const t of traces) expect(inTrace(t).map((s) => s.name).sort()).toEqual(['request', `send ${topic}`])
  })

  it("the pipeline's transform runs in the input's trace and its output is consumed in that trace; one span per transaction", async () => {
    const input = uniqueName('trace-pin')
    const output = uniqueName('trace-pout')
    await createTopic(input, 1)
    await createTopic(output, 1)
    const producer = newProducer()
    await producer.connect()
    const traceId = await sendInSpan(producer, input, 'hello')
    const pipelineGroup = uniqueName('trace-pipe')
    const pipeline = createPipeline({
      brokers: brokers(),
      groupId: pipelineGroup,
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('trace-tx'),
      logger: quietLogger(),
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, autoOffsetReset: 'earliest' },
      transform: async (msg) => {
        app().startSpan('transform-work').end()
        return { key: msg.key, value: (msg.value ?? '').toUpperCase() }
      },
    })
    try {
      await pipeline.run()
      const consumer = newConsumer(output)
      await consumer.connect()
      let got = ''
      await consumer.run({ eachMessage: async (m) => void (handlerSpan(), (got = String(m.value))) })
      await waitFor(() => got === 'HELLO' && named(inTrace(traceId), 'handle').length === 1, 60_000)
      await consumer.stop()
    } finally {
      await pipeline.stop()
    }
    const spans = inTrace(traceId)
    expect(spans.map((s) => s.name).sort()).toEqual(['handle', `process ${input}`, `process ${output}`, 'request', `send ${input}`, 'transform-work'])
    const [send] = named(spans, `send ${input}`)
    const [piped] = named(spans, `process ${input}`)
    const [consumed] = named(spans, `process ${output}`)
    expect(parentId(piped!)).toBe(send!.spanContext().spanId)
    expect(piped!.attributes['messaging.consumer.group.name']).toBe(pipelineGroup)
    expect(parentId(named(spans, 'transform-work')[0]!)).toBe(piped!.spanContext().spanId)
    expect(parentId(consumed!)).toBe(piped!.spanContext().spanId)
    const txs = named(tracing.spans(), `transaction ${input}`)
    expect(txs).toHaveLength(1)
    expect(txs[0]!.events.map((e) => e.name)).toEqual(['kafkatune.transaction.commit'])
    expect(txs[0]!.links.map((l) => l.context.spanId)).toEqual([send!.spanContext().spanId])
    expect(tracing.spans().filter((s) => s.instrumentationScope.name === KAFKAJS_SCOPE && (s.name.endsWith(input) || s.name.endsWith(output) || s.name === 'transaction'))).toHaveLength(0)
  })
})
