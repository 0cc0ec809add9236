/**
 * The consumer's measurements, under the Java client's names: fetches, records and bytes consumed
 * (per client and per topic), commits, rebalances, handler time (HDR histograms) and lag per assigned
 * partition. Fed once per fetch, batch, chunk or commit, never per record.
 */
import { C } from './metrics-catalog.js'
import type { MetricSink } from './metrics-catalog.js'
import { ClientMetricSet } from './metrics-otel.js'
import { LagTracker } from './metrics-lag.js'
import { Meter, WindowedAverage, WindowedHistogram, WindowedMax } from './metrics-window.js'

interface ConsumerTopicStats {
  readonly labels: { client_id: string; group_id: string; topic: string }
  readonly records: Meter
  bytes: number
}

export class ConsumerMetricSet extends ClientMetricSet {
  readonly labels: { client_id: string; group_id: string }
  readonly lagTracker: LagTracker
  /** Handler calls retried. */
  retries = 0
  /** Records sent to the dead-letter topic. */
  deadLettered = 0
  /** Successful offset commits. */
  commits = 0
  /** Offset commits that failed (they are retried by the next commit). */
  commitFailures = 0
  protected readonly consumed: Meter
  protected readonly bytes: Meter
  protected readonly fetches: Meter
  protected readonly commitMeter: Meter
  protected readonly fetchLatency: WindowedHistogram
  protected readonly commitLatency: WindowedHistogram
  protected readonly rebalanceLatency: WindowedHistogram
  protected readonly handlerLatency: WindowedHistogram
  /** Record bytes and throttle_time_ms of each fetch response. */
  protected readonly fetchSizeAvg: WindowedAverage
  protected readonly fetchSizeMax: WindowedMax
  protected readonly fetchThrottleAvg: WindowedAverage
  protected readonly fetchThrottleMax: WindowedMax
  protected joins = 0
  protected rebalanceMsTotal = 0
  protected lastRebalanceAt = -1
  protected lastFetchAt = -1
  readonly #topics = new Map<string, ConsumerTopicStats>()

  constructor(
    protected readonly now: () => number = Date.now,
    clientId = 'kafkatune',
    groupId = '',
  ) {
    super()
    this.labels = Object.freeze({ client_id: clientId, group_id: groupId })
    this.lagTracker = new LagTracker(now)
    this.consumed = new Meter(now)
    this.bytes = new Meter(now)
    this.fetches = new Meter(now)
    this.commitMeter = new Meter(now)
    this.fetchLatency = new WindowedHistogram(now)
    this.commitLatency = new WindowedHistogram(now)
    this.rebalanceLatency = new WindowedHistogram(now)
    this.handlerLatency = new WindowedHistogram(now)
    this.fetchSizeAvg = new WindowedAverage(now)
    this.fetchSizeMax = new WindowedMax(now)
    this.fetchThrottleAvg = new WindowedAverage(now)
    this.fetchThrottleMax = new WindowedMax(now)
  }

  #topic(topic: string): ConsumerTopicStats {
    let t = this.#topics.get(topic)
    if (t === undefined) {
      t = { labels: Object.freeze({ ...this.labels, topic }), records: new Meter(this.now), bytes: 0 }
      this.#topics.set(topic, t)
    }
    return t
  }

  /** A fetch request took `durationMs` (kafkajs' FETCH event: also the consumer's "poll"). */
  fetched(durationMs: number): void {
    this.fetches.add(1)
    this.fetchLatency.record(durationMs)
    this.lastFetchAt = this.now()
  }

  /** One partition of a fetch response: its high watermark and the bytes of its records. */
  fetchedPartition(topic: string, partition: number, highWatermark: number, bytes: number): void {
    this.lagTracker.highWatermark(topic, partition, highWatermark)
    if (bytes > 0) {
      this.bytes.add(bytes)
      this.#topic(topic).bytes += bytes
    }
  }

  /** A whole fetch response: the record bytes of all its partitions and the broker's throttle_time_ms. */
  fetchResponse(recordBytes: number, throttleTimeMs: number): void {
    this.fetchSizeAvg.record(recordBytes)
    this.fetchSizeMax.record(recordBytes)
    this.fetchThrottleAvg.record(throttleTimeMs)
    this.fetchThrottleMax.record(throttleTimeMs)
  }

  /** A fetched batch of `records` records of `topic` goes to the handlers. */
  delivered(topic: string, records: number): void {
    this.consumed.add(records)
    this.#topic(topic).records.add(records)
  }

  /** A handler call took `ms`. */
  handlerTime(ms: number): void {
    this.handlerLatency.record(ms)
  }

  /** A group join (and sync) completed after `durationMs`. */
  joined(durationMs: number): void {
    this.joins++
    this.rebalanceMsTotal += durationMs
    this.rebalanceLatency.record(durationMs)
    this.lastRebalanceAt = this.now()
  }

  /** An offset commit succeeded after `durationMs`; `offsets` are the next offsets to read. */
  commitDone(durationMs: number, offsets: readonly { topic: string; partition: number; offset: string }[]): void {
    this.commits++
    this.commitMeter.add(1)
    this.commitLatency.record(durationMs)
    for (const o of offsets) this.lagTracker.committed(o.topic, o.partition, Number(o.offset))
  }

  collect(sink: MetricSink): void {
    const l = this.labels
    const now = this.now()
    sink(C.recordsConsumedTotal, this.consumed.total, l)
    sink(C.recordsConsumedRate, this.consumed.rate.perSecond(), l)
    sink(C.bytesConsumedTotal, this.bytes.total, l)
    sink(C.bytesConsumedRate, this.bytes.rate.perSecond(), l)
    sink(C.fetchTotal, this.fetches.total, l)
    sink(C.fetchRate, this.fetches.rate.perSecond(), l)
    const f = this.fetchLatency.summary()
    sink(C.fetchLatencyAvg, f.avg, l)
    sink(C.fetchLatencyMax, f.max, l)
    sink(C.fetchSizeAvg, this.fetchSizeAvg.average() ?? 0, l)
    sink(C.fetchSizeMax, Math.max(0, this.fetchSizeMax.max()), l)
    sink(C.fetchThrottleTimeAvg, this.fetchThrottleAvg.average() ?? 0, l)
    sink(C.fetchThrottleTimeMax, Math.max(0, this.fetchThrottleMax.max()), l)
    sink(C.assignedPartitions, this.lagTracker.assigned, l)
    sink(C.commitTotal, this.commits, l)
    sink(C.commitRate, this.commitMeter.rate.perSecond(), l)
    const c = this.commitLatency.summary()
    sink(C.commitLatencyAvg, c.avg, l)
    sink(C.commitLatencyMax, c.max, l)
    sink(C.commitFailedTotal, this.commitFailures, l)
    sink(C.rebalanceTotal, this.joins, l)
    const r = this.rebalanceLatency.summary()
    sink(C.rebalanceLatencyAvg, r.avg, l)
    sink(C.rebalanceLatencyMax, r.max, l)
    sink(C.rebalanceLatencyTotal, this.rebalanceMsTotal, l)
    sink(C.lastRebalanceSecondsAgo, this.lastRebalanceAt < 0 ? -1 : (now - this.lastRebalanceAt) / 1000, l)
    sink(C.lastPollSecondsAgo, this.lastFetchAt < 0 ? -1 : (now - this.lastFetchAt) / 1000, l)
    const h = this.handlerLatency.summary()
    sink(C.handlerTimeAvg, h.avg, l)
    sink(C.handlerTimeMax, h.max, l)
    sink(C.handlerTimeP99, h.p99, l)
    sink(C.handlerRetryTotal, this.retries, l)
    sink(C.deadLetterTotal, this.deadLettered, l)
    for (const t of this.#topics.values()) {
      sink(C.topicRecordsConsumedTotal, t.records.total, t.labels)
      sink(C.topicRecordsConsumedRate, t.records.rate.perSecond(), t.labels)
      sink(C.topicBytesConsumedTotal, t.bytes, t.labels)
    }
    this.lagTracker.forEach(({ topic, partition, lag, committedLag }) => {
      const labels = { ...l, topic, partition: String(partition) }
      if (lag !== null) sink(C.recordsLag, lag, labels)
      if (committedLag !== null) sink(C.recordsLagCommitted, committedLag, labels)
    })
    sink(C.recordsLagMax, this.lagTracker.maxLag(), l)
  }
}
