import { ConsumerMetricSet } from '../observability/metrics-consumer.js'
import { WindowedRate } from '../observability/metrics-window.js'

/** A snapshot of what a consumer did; every counter counts since `connect()`. */
export interface ConsumerMetrics {
  /** Records finished per second over the last 10 s. */
  recordsPerSecond: number
  /** Records handed to the handlers (Java's records-consumed-total; a record redelivered after a rebalance counts again). */
  recordsConsumed: number
  /** Records finished (handled or dead-lettered). */
  records: number
  /**
   * Records behind the high watermark, per `topic/partition` this member owns (Java's records-lag): every
   * assigned partition from the moment it is assigned (a partition shows once its high watermark and start
   * position are known: at assignment, or at its first fetch).
   */
  lag: Record<string, number>
  /** Sum of `lag`. */
  totalLag: number
  /** High watermark minus the committed offset, per `topic/partition` this member owns and has a commit for. */
  committedLag: Record<string, number>
  /** Partitions assigned to this member. */
  assignedPartitions: number
  /** Fetch request time, ms (last 10-20 s). */
  fetchLatencyAvgMs: number
  fetchLatencyMaxMs: number
  /** Offset commit time, ms (last 10-20 s). */
  commitLatencyAvgMs: number
  /** Successful offset commits. */
  commits: number
  /** Offset commits that failed (they are retried by the next commit). */
  commitFailures: number
  /** Group joins after the first one. */
  rebalances: number
  /** Handler call durations in ms, from an HDR histogram of the last 10-20 s (`count`: calls in it). */
  handlerTimeMs: { p50: number; p99: number; max: number; count: number }
  /** Handler calls retried. */
  retries: number
  /** Records sent to the dead-letter topic. */
  deadLettered: number
  /** Handler calls that outlived `maxPollIntervalMs`. */
  maxPollIntervalExceeded: number
  /** Handler calls running now (ordering 'key'/'unordered'; 0 with 'partition'). */
  inFlight: number
  /** Records handed out and not finished, per `topic/partition` (ordering 'key'/'unordered'). */
  queueDepth: Record<string, number>
  /** Keys with records waiting behind a running record of the same key (ordering 'key'). */
  keysWaiting: number
  /** Finished records above the committed offsets, carried in the commit metadata (the offset map). */
  offsetMapRecords: number
  /** Records skipped because the offset map read back on assignment says they finished before. */
  skippedOnRestore: number
}

/** The gauges of out-of-order processing, read at snapshot time. */
export interface ParallelGaugeSource {
  gauges(): { inFlight: number; queueDepth: Record<string, number>; keysWaiting: number; offsetMapRecords: number }
}

/**
 * Mutable counters behind `consumer.metrics()`: the one metric set (`src/observability/metrics-consumer.ts`,
 * Java names, exported to OpenTelemetry and Prometheus) plus what only the snapshot shows.
 */
export class ConsumerMetricsRecorder extends ConsumerMetricSet {
  /** Records finished (handled or dead-lettered). */
  records = 0
  /** Group joins after the first one. */
  rebalances = 0
  maxPollIntervalExceeded = 0
  skippedOnRestore = 0
  /** Set by the consumer when it processes out of order. */
  parallel: ParallelGaugeSource | null = null
  readonly #finished: WindowedRate

  constructor(now: () => number = Date.now, clientId?: string, groupId?: string) {
    super(now, clientId, groupId)
    this.#finished = new WindowedRate(now)
  }

  finished(count = 1): void {
    this.records += count
    this.#finished.add(count)
  }

  /** Chunk-level progress: `next` is the next offset of `topic`/`partition` to hand out, `hw` its batch's high watermark. */
  position(topic: string, partition: number, next: number, hw: number): void {
    this.lagTracker.position(topic, partition, next, hw)
  }

  /**
   * Progress given as a lag against the batch's high watermark, for callers that only know that
   * (`key` is `topic/partition`): the position is derived from the high watermark tracked for the partition.
   */
  lag(key: string, value: number): void {
    const cut = key.lastIndexOf('/')
    this.lagTracker.positionFromLag(key.slice(0, cut), Number(key.slice(cut + 1)), Math.max(0, value))
  }

  /** The partitions this member owns now, as `topic/partition` keys. */
  retainLag(keys: ReadonlySet<string>): void {
    const assignment: Record<string, number[]> = {}
    for (const k of keys) {
      const cut = k.lastIndexOf('/')
      ;(assignment[k.slice(0, cut)] ??= []).push(Number(k.slice(cut + 1)))
    }
    this.lagTracker.assign(assignment)
  }

  snapshot(): ConsumerMetrics {
    const lag: Record<string, number> = {}
    const committedLag: Record<string, number> = {}
    let totalLag = 0
    this.lagTracker.forEach((v) => {
      const key = `${v.topic}/${v.partition}`
      if (v.lag !== null) {
        lag[key] = v.lag
        totalLag += v.lag
      }
      if (v.committedLag !== null) committedLag[key] = v.committedLag
    })
    const h = this.handlerLatency.summary()
    const f = this.fetchLatency.summary()
    return {
      recordsPerSecond: this.#finished.perSecond(),
      recordsConsumed: this.consumed.total,
      records: this.records,
      lag,
      totalLag,
      committedLag,
      assignedPartitions: this.lagTracker.assigned,
      fetchLatencyAvgMs: f.avg,
      fetchLatencyMaxMs: f.max,
      commitLatencyAvgMs: this.commitLatency.summary().avg,
      commits: this.commits,
      commitFailures: this.commitFailures,
      rebalances: this.rebalances,
      handlerTimeMs: { p50: h.p50, p99: h.p99, max: h.max, count: h.count },
      retries: this.retries,
      deadLettered: this.deadLettered,
      maxPollIntervalExceeded: this.maxPollIntervalExceeded,
      ...(this.parallel?.gauges() ?? { inFlight: 0, queueDepth: {}, keysWaiting: 0, offsetMapRecords: 0 }),
      skippedOnRestore: this.skippedOnRestore,
    }
  }
}
