/**
 * The producer's metrics recorder: the one metric set (`src/observability/metrics-producer.ts`, Java
 * names, exported to OpenTelemetry and Prometheus) plus what only `producer.metrics()` shows.
 */
import type { ErrorCode } from '../errors.js'
import { ProducerMetricSet } from '../observability/metrics-producer.js'
import type { ProducerMetrics } from './types.js'

/** Collects what the producer does; `snapshot()` is what `producer.metrics()` returns. */
export class ProducerMetricsRecorder extends ProducerMetricSet {
  private retriedBatches = 0
  private resets = 0
  private readonly errors: Partial<Record<ErrorCode, number>> = {}

  /** A batch of `records` records of `topic` is retried. */
  retried(topic = '', records = 1): void {
    this.retriedBatches++
    this.retriedRecords(topic, records)
  }

  reset(): void {
    this.resets++
  }

  failed(code: ErrorCode, records: number): void {
    this.errors[code] = (this.errors[code] ?? 0) + records
    this.failedRecords(records)
  }

  snapshot(buffer: { inUse: number; capacity: number; recordsInFlight: number }): ProducerMetrics {
    const request = this.requestLatency.summary()
    const delivery = this.deliveryLatency.summary()
    const queue = this.queueTime.summary()
    return {
      recordsPerSecond: this.sent.rate.perSecond(),
      bytesPerSecond: this.bytes.rate.perSecond(),
      recordsSent: this.sent.total,
      bytesSent: this.bytes.total,
      requests: this.requests.total,
      batchRecordsAvg: this.batches === 0 ? 0 : this.sent.total / this.batches,
      batchRecordsMax: this.batchRecordsMax,
      batchBytesAvg: this.batches === 0 ? 0 : this.bytes.total / this.batches,
      batchBytesMax: this.batchBytesMax,
      compressionRatio: this.compression(),
      requestLatencyP50Ms: request.p50,
      requestLatencyP99Ms: request.p99,
      requestLatencyAvgMs: request.avg,
      requestLatencyMaxMs: request.max,
      recordLatencyP50Ms: delivery.p50,
      recordLatencyP99Ms: delivery.p99,
      recordQueueTimeAvgMs: queue.avg,
      recordQueueTimeMaxMs: queue.max,
      bufferBytesInUse: buffer.inUse,
      bufferMemory: buffer.capacity,
      bufferWaitMs: this.bufferWaitNs / 1e6,
      recordsInFlight: buffer.recordsInFlight,
      retries: this.retriedBatches,
      recordRetries: this.retryMeter.total,
      resets: this.resets,
      errors: { ...this.errors },
    }
  }
}
