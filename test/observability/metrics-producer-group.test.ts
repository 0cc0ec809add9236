/** A pipeline's producers reported as one: sums, merged histograms, totals kept when a producer closes. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MetricDescriptor, MetricLabels } from '../../src/observability/metrics-catalog.js'
import { ProducerGroupMetrics } from '../../src/observability/metrics-producer-group.js'
import { ProducerMetricsRecorder } from '../../src/producer/metrics.js'

interface Sample {
  name: string
  labels: MetricLabels
  value: number
}

function collect(source: { collect(sink: (d: MetricDescriptor, v: number, l: MetricLabels) => void): void }): Sample[] {
  const out: Sample[] = []
  source.collect((d, value, labels) => out.push({ name: `${d.group}:${d.name}`, labels, value }))
  return out
}

const value = (samples: Sample[], name: string, topic?: string): number | undefined =>
  samples.find((s) => s.name === name && (topic === undefined || s.labels.topic === topic))?.value

describe('ProducerGroupMetrics', () => {
  it('sums counters and gauges, merges histograms, labels one client_id and one topic each, never twice', () => {
    let now = 0
    const group = new ProducerGroupMetrics('pipe')
    const a = new ProducerMetricsRecorder(() => now, 'pipe')
    const b = new ProducerMetricsRecorder(() => now, 'pipe')
    a.gauges = () => ({ bufferInUse: 100, bufferCapacity: 1_000, requestsInFlight: 1 })
    b.gauges = () => ({ bufferInUse: 50, bufferCapacity: 1_000, requestsInFlight: 2 })
    group.add(a)
    group.add(b)
    expect(a.exported).toBe(false)
    now = 1_000
    a.request(10, 5)
    b.request(30, 5)
    a.acked('out', 5, 500, now - 10, now - 5)
    b.acked('out', 5, 500, now - 10, now - 5)
    b.acked('other', 2, 100, now - 10, now - 5)
    a.encoded(1_000, 500, 'out')
    b.encoded(1_000, 300, 'out')
    a.throttled(0)
    b.throttled(40)
    const s = collect(group)
    expect(value(s, 'producer:record-send-total')).toBe(12)
    expect(value(s, 'producer:request-total')).toBe(2)
    expect(value(s, 'producer:request-latency-avg')).toBeCloseTo(20, 1)
    expect(value(s, 'producer:request-latency-max')).toBeCloseTo(30, 1)
    expect(value(s, 'producer:buffer-total-bytes')).toBe(2_000)
    expect(value(s, 'producer:buffer-available-bytes')).toBe(1_850)
    expect(value(s, 'producer:requests-in-flight')).toBe(3)
    expect(value(s, 'producer:produce-throttle-time-avg')).toBe(20)
    expect(value(s, 'producer:produce-throttle-time-max')).toBe(40)
    expect(value(s, 'producer:compression-rate-avg')).toBeCloseTo(0.4)
    expect(value(s, 'producer-topic:record-send-total', 'out')).toBe(10)
    expect(value(s, 'producer-topic:compression-rate', 'out')).toBeCloseTo(0.4)
    expect(value(s, 'producer-topic:compression-rate', 'other')).toBeUndefined()
    expect(value(s, 'producer-topic:record-send-total', 'other')).toBe(2)
    // One sample per metric and label set: no series reported twice.
    const keys = s.map((x) => `${x.name}${JSON.stringify(x.labels)}`)
    expect(new Set(keys).size).toBe(keys.length)
    for (const x of s) expect(x.labels.client_id).toBe('pipe')
  })

  it('a closed producer leaves its counters in the totals and its gauges and windowed values out', () => {
    let now = 0
    const group = new ProducerGroupMetrics('pipe')
    const a = new ProducerMetricsRecorder(() => now, 'pipe')
    a.gauges = () => ({ bufferInUse: 10, bufferCapacity: 1_000, requestsInFlight: 0 })
    group.add(a)
    now = 500
    a.request(10, 3)
    a.acked('out', 3, 300, now - 5, now - 1)
    a.failedInTopic('out', 1)
    a.failed('KAFKA', 1)
    group.retire(a)
    group.retire(a)
    expect(group.size).toBe(0)
    const s = collect(group)
    expect(value(s, 'producer:record-send-total')).toBe(3)
    expect(value(s, 'producer:record-error-total')).toBe(1)
    expect(value(s, 'producer-topic:record-send-total', 'out')).toBe(3)
    expect(value(s, 'producer-topic:record-error-total', 'out')).toBe(1)
    expect(value(s, 'producer:buffer-total-bytes')).toBe(0)
    expect(value(s, 'producer:request-latency-avg')).toBe(0)
    expect(value(s, 'producer-topic:record-send-rate', 'out')).toBe(0)
  })

  it('counters never go down while producers come and go (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('open', 'send', 'close'), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 50 })), { maxLength: 60 }), (ops) => {
        const group = new ProducerGroupMetrics('p')
        const open: ProducerMetricsRecorder[] = []
        let sent = 0
        let last = 0
        for (const [op, i, n] of ops) {
          if (op === 'open') {
            const m = new ProducerMetricsRecorder(() => 0, 'p')
            group.add(m)
            open.push(m)
          } else if (open.length > 0) {
            const m = open[i % open.length] as ProducerMetricsRecorder
            if (op === 'send') {
              m.acked('t', n, n * 10, 0, 0)
              sent += n
            } else {
              group.retire(m)
              open.splice(open.indexOf(m), 1)
            }
          }
          const total = value(collect(group), 'producer:record-send-total') ?? 0
          expect(total).toBe(sent)
          expect(total).toBeGreaterThanOrEqual(last)
          last = total
        }
      }),
    )
  })
})
