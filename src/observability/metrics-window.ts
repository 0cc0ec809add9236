/**
 * The two measuring instruments behind every metric: a windowed HDR histogram (Node's own
 * `perf_hooks.createHistogram`, two of them rotated so the numbers describe recent samples) and a rate
 * over per-second buckets. Time always comes in from the caller's clock, so tests drive it.
 */
import { createHistogram } from 'node:perf_hooks'
import type { RecordableHistogram } from 'node:perf_hooks'

/** How far back rates and windowed histograms look, in ms. */
export const WINDOW_MS = 10_000

/** 1 µs to one hour, three significant figures (0.1% error). */
const newHistogram = (): RecordableHistogram => createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 })

/** What a windowed histogram reports; durations in ms. */
export interface HistogramSummary {
  count: number
  avg: number
  max: number
  p50: number
  p99: number
}

const EMPTY: HistogramSummary = Object.freeze({ count: 0, avg: 0, max: 0, p50: 0, p99: 0 })

/** Nothing to turn over / the current half becomes the previous one / both halves are older than the window. */
const Turn = { None: 0, Shift: 1, Stale: 2 } as const
type Turn = (typeof Turn)[keyof typeof Turn]

/** When the two halves of a windowed instrument turn over (Java's two samples of a `SampledStat`): every `windowMs`. */
class Halves {
  #rotatedAt: number

  constructor(
    readonly now: () => number,
    private readonly windowMs: number,
  ) {
    this.#rotatedAt = now()
  }

  /** What happened to the halves since the last call. */
  turn(): Turn {
    const now = this.now()
    const elapsed = now - this.#rotatedAt
    if (elapsed < this.windowMs) return Turn.None
    this.#rotatedAt = now
    return elapsed >= 2 * this.windowMs ? Turn.Stale : Turn.Shift
  }
}

/**
 * Samples of the last one to two windows. `record()` is one native call and no allocation; reading
 * merges the two halves (allocation at read time only).
 */
export class WindowedHistogram {
  #current = newHistogram()
  #previous = newHistogram()
  readonly #halves: Halves

  /** `scale` turns a sample into the histogram's integer unit (1000: ms in, µs stored). */
  constructor(
    now: () => number,
    private readonly scale = 1000,
    windowMs = WINDOW_MS,
  ) {
    this.#halves = new Halves(now, windowMs)
  }

  #rotate(): void {
    const turn = this.#halves.turn()
    if (turn === Turn.None) return
    if (turn === Turn.Stale) this.#current.reset()
    const old = this.#previous
    old.reset()
    this.#previous = this.#current
    this.#current = old
  }

  record(value: number): void {
    this.#rotate()
    // HDR histograms hold integers >= 1: a 0 ms sample counts as the smallest unit.
    const v = Math.round(value * this.scale)
    this.#current.record(v < 1 ? 1 : v)
  }

  summary(): HistogramSummary {
    return WindowedHistogram.summaryOf([this])
  }

  /**
   * One summary of several histograms of the same scale (the producers of a pipeline): their samples merged
   * into one HDR histogram, so percentiles stay exact to the histogram's precision.
   */
  static summaryOf(histograms: readonly WindowedHistogram[]): HistogramSummary {
    const first = histograms[0]
    if (first === undefined) return EMPTY
    const merged = newHistogram()
    for (const h of histograms) {
      h.#rotate()
      merged.add(h.#previous)
      merged.add(h.#current)
    }
    if (merged.count === 0) return EMPTY
    const s = first.scale
    return { count: merged.count, avg: merged.mean / s, max: merged.max / s, p50: merged.percentile(50) / s, p99: merged.percentile(99) / s }
  }
}

/** A sum per second over the last `WINDOW_MS`; a young instrument divides by its age (at least 1 s), not the whole window. */
export class WindowedRate {
  readonly #buckets: Float64Array
  readonly #stamps: Float64Array
  readonly #createdAt: number

  constructor(
    private readonly now: () => number,
    private readonly windowMs = WINDOW_MS,
  ) {
    const n = Math.ceil(windowMs / 1000)
    this.#buckets = new Float64Array(n)
    this.#stamps = new Float64Array(n).fill(-1)
    this.#createdAt = now()
  }

  add(v: number): void {
    const sec = Math.floor(this.now() / 1000)
    const i = sec % this.#buckets.length
    if (this.#stamps[i] !== sec) {
      this.#stamps[i] = sec
      this.#buckets[i] = 0
    }
    this.#buckets[i]! += v
  }

  perSecond(): number {
    const now = this.now()
    const sec = Math.floor(now / 1000)
    const n = this.#buckets.length
    let sum = 0
    for (let i = 0; i < n; i++) if (this.#stamps[i]! > sec - n) sum += this.#buckets[i]!
    const span = Math.min(this.windowMs / 1000, Math.max(1, (now - this.#createdAt) / 1000))
    return sum / span
  }
}

/** A counter with its windowed rate: Java's `<name>-total` and `<name>-rate` pair. */
export class Meter {
  total = 0
  readonly rate: WindowedRate

  constructor(now: () => number) {
    this.rate = new WindowedRate(now)
  }

  add(v: number): void {
    this.total += v
    this.rate.add(v)
  }
}

/**
 * The largest value recorded over the last one to two windows (Java's `Max` stat over its samples): two
 * halves rotated every `windowMs`, as `WindowedHistogram` does. `-1` when nothing was recorded in them.
 */
export class WindowedMax {
  #current = -1
  #previous = -1
  readonly #halves: Halves

  constructor(now: () => number, windowMs = WINDOW_MS) {
    this.#halves = new Halves(now, windowMs)
  }

  #rotate(): void {
    const turn = this.#halves.turn()
    if (turn === Turn.None) return
    this.#previous = turn === Turn.Stale ? -1 : this.#current
    this.#current = -1
  }

  record(value: number): void {
    this.#rotate()
    if (value > this.#current) this.#current = value
  }

  max(): number {
    this.#rotate()
    return Math.max(this.#current, this.#previous)
  }
}

/**
 * The average of the values recorded over the last one to two windows (Java's `Avg` stat); null when none
 * was recorded in them.
 */
export class WindowedAverage {
  #sum = 0
  #count = 0
  #prevSum = 0
  #prevCount = 0
  readonly #halves: Halves

  constructor(now: () => number, windowMs = WINDOW_MS) {
    this.#halves = new Halves(now, windowMs)
  }

  #rotate(): void {
    const turn = this.#halves.turn()
    if (turn === Turn.None) return
    this.#prevSum = turn === Turn.Stale ? 0 : this.#sum
    this.#prevCount = turn === Turn.Stale ? 0 : this.#count
    this.#sum = 0
    this.#count = 0
  }

  record(value: number): void {
    this.#rotate()
    this.#sum += value
    this.#count++
  }

  /** Values recorded in the window. */
  count(): number {
    this.#rotate()
    return this.#count + this.#prevCount
  }

  average(): number | null {
    const n = this.count()
    return n === 0 ? null : (this.#sum + this.#prevSum) / n
  }

  /** The sum and count of the values in the window (to average several instruments together). */
  totals(): { sum: number; count: number } {
    const count = this.count()
    return { sum: this.#sum + this.#prevSum, count }
  }
}
