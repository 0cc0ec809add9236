import { createRequire } from 'node:module'
import { afterAll, describe, expect, it } from 'vitest'
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs'
import { Kafka, logLevel } from 'kafkajs'
import { hideFromKafkajsInstrumentation, isInstrumented, unwrapped } from '../../src/observability/tracing-kafkajs.js'

// Patches kafkajs's prototypes in this test file's worker, as an application's instrumentation setup does.
const instrumentation = new KafkaJsInstrumentation()
createRequire(import.meta.url)('kafkajs')
afterAll(() => instrumentation.disable())

const client = () => new Kafka({ clientId: 'hide-test', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING })

describe('hiding kafkatune clients from kafkajs auto-instrumentation', () => {
  it('the instrumentation wraps the methods of a plain client', () => {
    const k = client()
    expect(isInstrumented(k.consumer({ groupId: 'g' }).run)).toBe(true)
    const p = k.producer()
    expect([p.send, p.sendBatch, p.transaction].map(isInstrumented)).toEqual([true, true, true])
  })

  it("a hidden client's producers and consumers call kafkajs directly", () => {
    const k = client()
    hideFromKafkajsInstrumentation(k)
    const c = k.consumer({ groupId: 'g' })
    expect(isInstrumented(c.run)).toBe(false)
    const p = k.producer()
    expect([p.send, p.sendBatch, p.transaction].map(isInstrumented)).toEqual([false, false, false])
    // A plain client of the same process keeps its instrumentation.
    expect(isInstrumented(client().consumer({ groupId: 'g' }).run)).toBe(true)
  })

  it('unwrapped() peels every wrapper', () => {
    const inner = () => 1
    const once = Object.assign(() => 2, { __wrapped: true, __original: inner })
    const twice = Object.assign(() => 3, { __wrapped: true, __original: once })
    expect(unwrapped(twice)).toBe(inner)
    expect(unwrapped(inner)).toBe(inner)
    expect(isInstrumented(twice)).toBe(true)
    expect(isInstrumented(inner)).toBe(false)
  })
})
