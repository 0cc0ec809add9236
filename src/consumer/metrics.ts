/** A snapshot of what a consumer did; every counter counts since `connect()`. */
export interface ConsumerMetrics {
  /** Records finished per second over the last 10 s. */
  recordsPerSecond: number
  /** Records finished (handled or dead-lettered). */
  records: number
  /** Records behind the high watermark, per `topic/partition` this member owns. */
  lag: Record<string, number>
  /** Sum of `lag`. */
  totalLag: number
  /** Successful offset commits. */
  commits: number
  /** Offset commits that failed (they are retried by the next commit). */
  commitFailures: number
  /** Group joins after the first one. */
  rebalances: number
  /** Handler call durations over the last 2048 calls, in ms. */
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

const WINDOW_S = 10
const SAMPLES = 2048

/** Mutable counters behind `consumer.metrics()`. */
export class ConsumerMetricsRecorder {
  records = 0
  commits = 0
  commitFailures = 0
  rebalances = 0
  retries = 0
  deadLettered = 0
  maxPollIntervalExceeded = 0
  skippedOnRestore = 0
  /** Set by the consumer when it processes out of order. */
  parallel: ParallelGaugeSource | null = null
  readonly #lag = new Map<string, number>()
  readonly #buckets = new Array<number>(WINDOW_S).fill(0)
  #bucketSecond = 0
  readonly #durations: number[] = []
  #next = 0

  constructor(private readonly now: () => number = Date.now) {
    this.#bucketSecond = Math.floor(now() / 1000)
  }

  #roll(): void {
    const second = Math.floor(this.now() / 1000)
    const steps = Math.min(WINDOW_S, second - this.#bucketSecond)
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#bucketSecond + i) % WINDOW_S] = 0
    if (second > this.#bucketSecond) this.#bucketSecond = second
  }

  finished(count = 1): void {
    this.records += count
    this.#roll()
    this.#buckets[this.#bucketSecond % WINDOW_S]! += count
  }

  handlerTime(ms: number): void {
    if (this.#durations.length < SAMPLES) this.#durations.push(ms)
    else this.#durations[this.#next] = ms
    this.#next = (this.#next + 1) % SAMPLES
  }

  lag(key: string, value: number): void {
    this.#lag.set(key, Math.max(0, value))
  }

  retainLag(keys: ReadonlySet<string>): void {
    for (const k of [...this.#lag.keys()]) if (!keys.has(k)) this.#lag.delete(k)
  }

  snapshot(): ConsumerMetrics {
    this.#roll()
    const sorted = [...this.#durations].sort((a, b) => a - b)
    const pct = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!)
    const lag = Object.fromEntries(this.#lag)
    return {
      recordsPerSecond: this.#buckets.reduce((a, b) => a + b, 0) / WINDOW_S,
      records: this.records,
      lag,
      totalLag: Object.values(lag).reduce((a, b) => a + b, 0),
      commits: this.commits,
      commitFailures: this.commitFailures,
      rebalances: this.rebalances,
      handlerTimeMs: { p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1) ?? 0, count: sorted.length },
      retries: this.retries,
      deadLettered: this.deadLettered,
      maxPollIntervalExceeded: this.maxPollIntervalExceeded,
      ...(this.parallel?.gauges() ?? { inFlight: 0, queueDepth: {}, keysWaiting: 0, offsetMapRecords: 0 }),
      skippedOnRestore: this.skippedOnRestore,
    }
  }
}
