/**
 * The producer's measurements, under the Java client's names: counters and rates per client and per
 * topic, HDR histograms for latencies and sizes. The sender feeds it once per request and per batch
 * (never per record); `collect()` reads it for the exporters and `producer.metrics()`. Several sets can
 * be reported as one (`collectMerged`): a pipeline's producers, with the counters of those closed kept.
 */
import { P } from './metrics-catalog.js'
import type { MetricLabels, MetricSink } from './metrics-catalog.js'
import { ClientMetricSet } from './metrics-otel.js'
import { Meter, WindowedAverage, WindowedHistogram, WindowedMax } from './metrics-window.js'

interface TopicStats {
  readonly labels: { client_id: string; topic: string }
  readonly records: Meter
  readonly bytes: Meter
  errors: number
  retries: number
  /** Compressed / uncompressed of each batch of the topic (Java's per-topic `compression-rate`). */
  readonly compression: WindowedAverage
  rawBytes: number
  wireBytes: number
}

/** What the counters of a producer add up to: kept when the producer closes, so merged counters never go down. */
export interface ProducerTotals {
  sent: number
  bytes: number
  errors: number
  retries: number
  requests: number
  rawBytes: number
  wireBytes: number
  bufferWaitNs: number
  topics: Map<string, { records: number; bytes: number; errors: number; retries: number; rawBytes: number; wireBytes: number }>
}

/** Totals of no producer. */
export function emptyProducerTotals(): ProducerTotals {
  return { sent: 0, bytes: 0, errors: 0, retries: 0, requests: 0, rawBytes: 0, wireBytes: 0, bufferWaitNs: 0, topics: new Map() }
}

const ratio = (wire: number, raw: number): number => (raw === 0 ? 1 : wire / raw)

/** An average of several windowed averages (their sums over their counts); null when all are empty. */
function averageOf(list: readonly WindowedAverage[]): number | null {
  let sum = 0
  let count = 0
  for (const a of list) {
    const t = a.totals()
    sum += t.sum
    count += t.count
  }
  return count === 0 ? null : sum / count
}

/** What the producer's buffer looks like now (read at collect time). */
export interface ProducerGauges {
  bufferInUse: number
  bufferCapacity: number
  requestsInFlight: number
}

export class ProducerMetricSet extends ClientMetricSet {
  readonly labels: { client_id: string }
  /** Set by the producer: the buffer and in-flight gauges. */
  gauges: () => ProducerGauges = () => ({ bufferInUse: 0, bufferCapacity: 0, requestsInFlight: 0 })
  protected readonly sent: Meter
  protected readonly bytes: Meter
  protected readonly errorMeter: Meter
  protected readonly retryMeter: Meter
  protected readonly requests: Meter
  protected readonly requestLatency: WindowedHistogram
  protected readonly deliveryLatency: WindowedHistogram
  protected readonly queueTime: WindowedHistogram
  /** Bytes per partition batch (scale 1: stored as is). */
  protected readonly batchBytes: WindowedHistogram
  protected readonly requestRecords: WindowedHistogram
  protected batches = 0
  protected batchRecordsMax = 0
  protected batchBytesMax = 0
  protected uncompressedBytes = 0
  protected encodedBytes = 0
  protected bufferWaitNs = 0
  /** Compressed / uncompressed of each batch (Java's `compression-rate-avg`). */
  protected readonly compressionAvg: WindowedAverage
  /** The broker's throttle_time_ms of each produce response. */
  protected readonly throttleAvg: WindowedAverage
  protected readonly throttleMax: WindowedMax
  readonly #topics = new Map<string, TopicStats>()

  constructor(
    protected readonly now: () => number = Date.now,
    clientId = 'kafkatune',
  ) {
    super()
    this.labels = Object.freeze({ client_id: clientId })
    this.sent = new Meter(now)
    this.bytes = new Meter(now)
    this.errorMeter = new Meter(now)
    this.retryMeter = new Meter(now)
    this.requests = new Meter(now)
    this.requestLatency = new WindowedHistogram(now)
    this.deliveryLatency = new WindowedHistogram(now)
    this.queueTime = new WindowedHistogram(now)
    this.batchBytes = new WindowedHistogram(now, 1)
    this.requestRecords = new WindowedHistogram(now, 1)
    this.compressionAvg = new WindowedAverage(now)
    this.throttleAvg = new WindowedAverage(now)
    this.throttleMax = new WindowedMax(now)
  }

  #topic(topic: string): TopicStats {
    let t = this.#topics.get(topic)
    if (t === undefined) {
      t = {
        labels: Object.freeze({ client_id: this.labels.client_id, topic }),
        records: new Meter(this.now),
        bytes: new Meter(this.now),
        errors: 0,
        retries: 0,
        compression: new WindowedAverage(this.now),
        rawBytes: 0,
        wireBytes: 0,
      }
      this.#topics.set(topic, t)
    }
    return t
  }

  /** A produce request of `records` records finished (successfully or not) after `durationMs`. */
  request(durationMs: number, records = 0): void {
    this.requests.add(1)
    this.requestLatency.record(durationMs)
    if (records > 0) this.requestRecords.record(records)
  }

  /** A batch left the accumulator after waiting `queueMs`. */
  dispatched(queueMs: number): void {
    this.queueTime.record(queueMs)
  }

  /** One partition batch was acknowledged. */
  acked(topic: string, records: number, bytes: number, oldestSendAt: number, newestSendAt: number): void {
    const now = this.now()
    this.batches++
    this.sent.add(records)
    this.bytes.add(bytes)
    if (records > this.batchRecordsMax) this.batchRecordsMax = records
    if (bytes > this.batchBytesMax) this.batchBytesMax = bytes
    this.batchBytes.record(bytes)
    const t = this.#topic(topic)
    t.records.add(records)
    t.bytes.add(bytes)
    // Two samples per batch bound the cost: its oldest and its newest record.
    this.deliveryLatency.record(now - oldestSendAt)
    if (records > 1) this.deliveryLatency.record(now - newestSendAt)
  }

  /** A batch (of `topic`, when the caller knows it) was encoded: its size without and with compression. */
  encoded(uncompressedBytes: number, encodedBytes: number, topic?: string): void {
    this.uncompressedBytes += uncompressedBytes
    this.encodedBytes += encodedBytes
    if (uncompressedBytes <= 0) return
    const r = encodedBytes / uncompressedBytes
    this.compressionAvg.record(r)
    if (topic === undefined) return
    const t = this.#topic(topic)
    t.compression.record(r)
    t.rawBytes += uncompressedBytes
    t.wireBytes += encodedBytes
  }

  /** A produce response said the broker throttled this client for `ms` (throttle_time_ms, quotas). */
  throttled(ms: number): void {
    this.throttleAvg.record(ms)
    this.throttleMax.record(ms)
  }

  /** `records` records of `topic` go out again after a retriable error. */
  retriedRecords(topic: string, records: number): void {
    this.retryMeter.add(records)
    this.#topic(topic).retries += records
  }

  /** Records failed for good. */
  failedRecords(records: number): void {
    this.errorMeter.add(records)
  }

  /** The same failures, told where the topic is known (failed batches, refused sends). */
  failedInTopic(topic: string, records: number): void {
    this.#topic(topic).errors += records
  }

  /** A send() waited `ns` for buffer space. */
  bufferWaited(ns: number): void {
    this.bufferWaitNs += ns
  }

  /** Awaits `wait` (a send() waiting for buffer space) and counts the time it took, settled or not. */
  async bufferWait(wait: Promise<void>): Promise<void> {
    const started = process.hrtime.bigint()
    try {
      await wait
    } finally {
      this.bufferWaited(Number(process.hrtime.bigint() - started))
    }
  }

  /** Compressed / uncompressed, 1 before the first batch. */
  protected compression(): number | null {
    return this.uncompressedBytes === 0 ? null : this.encodedBytes / this.uncompressedBytes
  }

  /** This producer's counters (see `ProducerTotals`), added to `into`. */
  addTotals(into: ProducerTotals): ProducerTotals {
    const own: ProducerTotals = {
      sent: this.sent.total,
      bytes: this.bytes.total,
      errors: this.errorMeter.total,
      retries: this.retryMeter.total,
      requests: this.requests.total,
      rawBytes: this.uncompressedBytes,
      wireBytes: this.encodedBytes,
      bufferWaitNs: this.bufferWaitNs,
      topics: new Map(),
    }
    for (const [topic, t] of this.#topics) {
      own.topics.set(topic, { records: t.records.total, bytes: t.bytes.total, errors: t.errors, retries: t.retries, rawBytes: t.rawBytes, wireBytes: t.wireBytes })
    }
    return addProducerTotals(into, own)
  }

  collect(sink: MetricSink): void {
    ProducerMetricSet.collectMerged(this.labels, [this], null, sink)
  }

  /**
   * Reports `sets` as one producer labelled `labels`: counters summed (plus `retired`, the totals of
   * producers closed since), rates summed, histograms merged, gauges summed. Rates and windowed values of
   * closed producers leave with them.
   */
  static collectMerged(labels: MetricLabels & { client_id: string }, sets: readonly ProducerMetricSet[], retired: ProducerTotals | null, sink: MetricSink): void {
    const l = labels
    const sum = (f: (m: ProducerMetricSet) => number): number => {
      let n = 0
      for (const m of sets) n += f(m)
      return n
    }
    const totals = emptyProducerTotals()
    for (const m of sets) m.addTotals(totals)
    if (retired !== null) addProducerTotals(totals, retired)
    sink(P.recordSendTotal, totals.sent, l)
    sink(P.recordSendRate, sum((m) => m.sent.rate.perSecond()), l)
    sink(P.recordErrorTotal, totals.errors, l)
    sink(P.recordErrorRate, sum((m) => m.errorMeter.rate.perSecond()), l)
    sink(P.recordRetryTotal, totals.retries, l)
    sink(P.recordRetryRate, sum((m) => m.retryMeter.rate.perSecond()), l)
    sink(P.requestTotal, totals.requests, l)
    sink(P.requestRate, sum((m) => m.requests.rate.perSecond()), l)
    const req = WindowedHistogram.summaryOf(sets.map((m) => m.requestLatency))
    sink(P.requestLatencyAvg, req.avg, l)
    sink(P.requestLatencyMax, req.max, l)
    sink(P.requestLatencyP99, req.p99, l)
    const q = WindowedHistogram.summaryOf(sets.map((m) => m.queueTime))
    sink(P.recordQueueTimeAvg, q.avg, l)
    sink(P.recordQueueTimeMax, q.max, l)
    const d = WindowedHistogram.summaryOf(sets.map((m) => m.deliveryLatency))
    sink(P.deliveryLatencyAvg, d.avg, l)
    sink(P.deliveryLatencyP99, d.p99, l)
    const b = WindowedHistogram.summaryOf(sets.map((m) => m.batchBytes))
    sink(P.batchSizeAvg, b.avg, l)
    sink(P.batchSizeMax, b.max, l)
    sink(P.recordsPerRequestAvg, WindowedHistogram.summaryOf(sets.map((m) => m.requestRecords)).avg, l)
    sink(P.recordSizeAvg, totals.sent === 0 ? 0 : totals.bytes / totals.sent, l)
    sink(P.compressionRateAvg, averageOf(sets.map((m) => m.compressionAvg)) ?? ratio(totals.wireBytes, totals.rawBytes), l)
    sink(P.produceThrottleTimeAvg, averageOf(sets.map((m) => m.throttleAvg)) ?? 0, l)
    sink(P.produceThrottleTimeMax, Math.max(0, ...sets.map((m) => m.throttleMax.max())), l)
    let inFlight = 0
    let capacity = 0
    let inUse = 0
    for (const m of sets) {
      const g = m.gauges()
      inFlight += g.requestsInFlight
      capacity += g.bufferCapacity
      inUse += g.bufferInUse
    }
    sink(P.requestsInFlight, inFlight, l)
    sink(P.bufferTotalBytes, capacity, l)
    sink(P.bufferAvailableBytes, Math.max(0, capacity - inUse), l)
    sink(P.bufferpoolWaitTimeNsTotal, totals.bufferWaitNs, l)
    for (const [topic, t] of totals.topics) {
      const live = sets.flatMap((m) => {
        const s = m.#topics.get(topic)
        return s === undefined ? [] : [s]
      })
      const tl = live.length === 1 && sets.length === 1 ? (live[0] as TopicStats).labels : { client_id: l.client_id, topic }
      sink(P.topicRecordSendTotal, t.records, tl)
      sink(P.topicRecordSendRate, live.reduce((n, s) => n + s.records.rate.perSecond(), 0), tl)
      sink(P.topicByteTotal, t.bytes, tl)
      sink(P.topicByteRate, live.reduce((n, s) => n + s.bytes.rate.perSecond(), 0), tl)
      sink(P.topicRecordErrorTotal, t.errors, tl)
      sink(P.topicRecordRetryTotal, t.retries, tl)
      if (t.rawBytes > 0) sink(P.topicCompressionRate, averageOf(live.map((s) => s.compression)) ?? ratio(t.wireBytes, t.rawBytes), tl)
    }
  }
}

/** Adds `b` into `a`. */
export function addProducerTotals(a: ProducerTotals, b: ProducerTotals): ProducerTotals {
  a.sent += b.sent
  a.bytes += b.bytes
  a.errors += b.errors
  a.retries += b.retries
  a.requests += b.requests
  a.rawBytes += b.rawBytes
  a.wireBytes += b.wireBytes
  a.bufferWaitNs += b.bufferWaitNs
  for (const [topic, t] of b.topics) {
    const x = a.topics.get(topic) ?? { records: 0, bytes: 0, errors: 0, retries: 0, rawBytes: 0, wireBytes: 0 }
    x.records += t.records
    x.bytes += t.bytes
    x.errors += t.errors
    x.retries += t.retries
    x.rawBytes += t.rawBytes
    x.wireBytes += t.wireBytes
    a.topics.set(topic, x)
  }
  return a
}
