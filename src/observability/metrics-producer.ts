/**
 * The producer's measurements, under the Java client's names: counters and rates per client and per
 * topic, HDR histograms for latencies and sizes. The sender feeds it once per request and per batch
 * (never per record); `collect()` reads it for the exporters and `producer.metrics()`.
 */
import { P } from './metrics-catalog.js'
import type { MetricSink } from './metrics-catalog.js'
import { ClientMetricSet } from './metrics-otel.js'
import { Meter, WindowedHistogram } from './metrics-window.js'

interface TopicStats {
  readonly labels: { client_id: string; topic: string }
  readonly records: Meter
  readonly bytes: Meter
  errors: number
  retries: number
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
  }

  #topic(topic: string): TopicStats {
    let t = this.#topics.get(topic)
    if (t === undefined) {
      t = { labels: Object.freeze({ client_id: this.labels.client_id, topic }), records: new Meter(this.now), bytes: new Meter(this.now), errors: 0, retries: 0 }
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

  /** A batch was encoded: its size without and with compression. */
  encoded(uncompressedBytes: number, encodedBytes: number): void {
    this.uncompressedBytes += uncompressedBytes
    this.encodedBytes += encodedBytes
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

  collect(sink: MetricSink): void {
    const l = this.labels
    sink(P.recordSendTotal, this.sent.total, l)
    sink(P.recordSendRate, this.sent.rate.perSecond(), l)
    sink(P.recordErrorTotal, this.errorMeter.total, l)
    sink(P.recordErrorRate, this.errorMeter.rate.perSecond(), l)
    sink(P.recordRetryTotal, this.retryMeter.total, l)
    sink(P.recordRetryRate, this.retryMeter.rate.perSecond(), l)
    sink(P.requestTotal, this.requests.total, l)
    sink(P.requestRate, this.requests.rate.perSecond(), l)
    const req = this.requestLatency.summary()
    sink(P.requestLatencyAvg, req.avg, l)
    sink(P.requestLatencyMax, req.max, l)
    sink(P.requestLatencyP99, req.p99, l)
    const q = this.queueTime.summary()
    sink(P.recordQueueTimeAvg, q.avg, l)
    sink(P.recordQueueTimeMax, q.max, l)
    const d = this.deliveryLatency.summary()
    sink(P.deliveryLatencyAvg, d.avg, l)
    sink(P.deliveryLatencyP99, d.p99, l)
    const b = this.batchBytes.summary()
    sink(P.batchSizeAvg, b.avg, l)
    sink(P.batchSizeMax, b.max, l)
    sink(P.recordsPerRequestAvg, this.requestRecords.summary().avg, l)
    sink(P.recordSizeAvg, this.sent.total === 0 ? 0 : this.bytes.total / this.sent.total, l)
    sink(P.compressionRateAvg, this.compression() ?? 1, l)
    const g = this.gauges()
    sink(P.requestsInFlight, g.requestsInFlight, l)
    sink(P.bufferTotalBytes, g.bufferCapacity, l)
    sink(P.bufferAvailableBytes, Math.max(0, g.bufferCapacity - g.bufferInUse), l)
    sink(P.bufferpoolWaitTimeNsTotal, this.bufferWaitNs, l)
    for (const t of this.#topics.values()) {
      sink(P.topicRecordSendTotal, t.records.total, t.labels)
      sink(P.topicRecordSendRate, t.records.rate.perSecond(), t.labels)
      sink(P.topicByteTotal, t.bytes.total, t.labels)
      sink(P.topicByteRate, t.bytes.rate.perSecond(), t.labels)
      sink(P.topicRecordErrorTotal, t.errors, t.labels)
      sink(P.topicRecordRetryTotal, t.retries, t.labels)
    }
  }
}
