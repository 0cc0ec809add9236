import type { ErrorCode } from '../errors.js'
import type { ProducerMetrics } from './types.js'

const WINDOW_SECONDS = 10
const SAMPLES = 4096

/** A ring of the last `SAMPLES` values with percentiles on demand. */
class Reservoir {
  private readonly values = new Float64Array(SAMPLES)
  private count = 0

  add(v: number): void {
    this.values[this.count % SAMPLES] = v
    this.count++
  }

  percentile(p: number): number {
    const n = Math.min(this.count, SAMPLES)
    if (n === 0) return 0
    const sorted = Array.from(this.values.subarray(0, n)).sort((a, b) => a - b)
    return sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] ?? 0
  }
}

/** Per-second buckets of the last `WINDOW_SECONDS` seconds. */
class Rate {
  private readonly buckets = new Float64Array(WINDOW_SECONDS)
  private readonly stamps = new Float64Array(WINDOW_SECONDS)

  constructor(private readonly createdAt: number) {}

  add(v: number, now: number): void {
    const sec = Math.floor(now / 1000)
    const i = sec % WINDOW_SECONDS
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec
      this.buckets[i] = 0
    }
    this.buckets[i] = (this.buckets[i] ?? 0) + v
  }

  perSecond(now: number): number {
    const sec = Math.floor(now / 1000)
    let sum = 0
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      const stamp = this.stamps[i] ?? -1
      if (stamp > sec - WINDOW_SECONDS) sum += this.buckets[i] ?? 0
    }
    // A young producer divides by its age, not by the whole window.
    const span = Math.min(WINDOW_SECONDS, Math.max(0.001, (now - this.createdAt) / 1000))
    return sum / span
  }
}

/** Collects what the producer does; `snapshot()` is what `producer.metrics()` returns. */
export class ProducerMetricsRecorder {
  private readonly records: Rate
  private readonly bytes: Rate
  private readonly requestLatency = new Reservoir()
  private readonly recordLatency = new Reservoir()
  private recordsSent = 0
  private bytesSent = 0
  private requests = 0
  private batches = 0
  private batchRecordsMax = 0
  private batchBytesMax = 0
  private retries = 0
  private resets = 0
  private uncompressedBytes = 0
  private encodedBytes = 0
  private readonly errors: Partial<Record<ErrorCode, number>> = {}

  constructor(private readonly now: () => number = Date.now) {
    this.records = new Rate(now())
    this.bytes = new Rate(now())
  }

  /** A produce request finished (successfully or not) after `durationMs`. */
  request(durationMs: number): void {
    this.requests++
    this.requestLatency.add(durationMs)
  }

  /** One partition batch was acknowledged. */
  batchAcked(records: number, bytes: number, oldestSendAt: number, newestSendAt: number): void {
    const now = this.now()
    this.batches++
    this.recordsSent += records
    this.bytesSent += bytes
    if (records > this.batchRecordsMax) this.batchRecordsMax = records
    if (bytes > this.batchBytesMax) this.batchBytesMax = bytes
    this.records.add(records, now)
    this.bytes.add(bytes, now)
    // Two samples per batch bound the cost: its oldest and its newest record.
    this.recordLatency.add(now - oldestSendAt)
    if (records > 1) this.recordLatency.add(now - newestSendAt)
  }

  /** A batch was encoded: its size without and with compression. */
  encoded(uncompressedBytes: number, encodedBytes: number): void {
    this.uncompressedBytes += uncompressedBytes
    this.encodedBytes += encodedBytes
  }

  retried(): void {
    this.retries++
  }

  reset(): void {
    this.resets++
  }

  failed(code: ErrorCode, records: number): void {
    this.errors[code] = (this.errors[code] ?? 0) + records
  }

  snapshot(buffer: { inUse: number; capacity: number; recordsInFlight: number }): ProducerMetrics {
    const now = this.now()
    return {
      recordsPerSecond: this.records.perSecond(now),
      bytesPerSecond: this.bytes.perSecond(now),
      recordsSent: this.recordsSent,
      bytesSent: this.bytesSent,
      requests: this.requests,
      batchRecordsAvg: this.batches === 0 ? 0 : this.recordsSent / this.batches,
      batchRecordsMax: this.batchRecordsMax,
      batchBytesAvg: this.batches === 0 ? 0 : this.bytesSent / this.batches,
      batchBytesMax: this.batchBytesMax,
      compressionRatio: this.uncompressedBytes === 0 ? null : this.encodedBytes / this.uncompressedBytes,
      requestLatencyP50Ms: this.requestLatency.percentile(50),
      requestLatencyP99Ms: this.requestLatency.percentile(99),
      recordLatencyP50Ms: this.recordLatency.percentile(50),
      recordLatencyP99Ms: this.recordLatency.percentile(99),
      bufferBytesInUse: buffer.inUse,
      bufferMemory: buffer.capacity,
      recordsInFlight: buffer.recordsInFlight,
      retries: this.retries,
      resets: this.resets,
      errors: { ...this.errors },
    }
  }
}
