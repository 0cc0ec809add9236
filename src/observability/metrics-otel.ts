/**
 * OpenTelemetry export: observable instruments (one per catalog entry, created once per meter) and one
 * batch callback per connected client, removed on disconnect. Nothing happens without
 * `@opentelemetry/api` or without a meter provider (the API's no-op meter).
 */
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api'
import { METRICS, otelName } from './metrics-catalog.js'
import type { MetricDescriptor, MetricSink, MetricsSource } from './metrics-catalog.js'
import { otelApi } from './otel.js'

const METER_NAME = 'kafkatune'

const instrumentsByMeter = new WeakMap<Meter, Map<MetricDescriptor, Observable>>()

function instruments(meter: Meter): Map<MetricDescriptor, Observable> {
  let map = instrumentsByMeter.get(meter)
  if (map === undefined) {
    map = new Map()
    for (const m of METRICS) {
      const options = { description: m.help, unit: m.unit }
      map.set(m, m.kind === 'counter' ? meter.createObservableCounter(otelName(m), options) : meter.createObservableGauge(otelName(m), options))
    }
    instrumentsByMeter.set(meter, map)
  }
  return map
}

/**
 * Reports `source` through the application's global meter provider (read now: register the SDK before
 * `connect()`). Returns the function that stops reporting.
 */
export function registerOtelMetrics(source: MetricsSource): () => void {
  const api = otelApi()
  if (api === null) return () => undefined
  const meter = api.metrics.getMeter(METER_NAME)
  const byMetric = instruments(meter)
  const observables = [...byMetric.values()]
  const callback = (result: BatchObservableResult): void => {
    if (!source.active) return
    source.collect((metric, value, labels) => {
      const instrument = byMetric.get(metric)
      if (instrument !== undefined) result.observe(instrument, value, labels)
    })
  }
  meter.addBatchObservableCallback(callback, observables)
  let removed = false
  return () => {
    if (removed) return
    removed = true
    meter.removeBatchObservableCallback(callback, observables)
  }
}

/** A client's metric set: inactive until `start()` (connect), reported to OpenTelemetry until `stop()` (disconnect). */
export abstract class ClientMetricSet implements MetricsSource {
  active = false
  /**
   * False for a set that another set reports (a pipeline's producers, summed into the pipeline's producer
   * metrics): it never reaches OpenTelemetry on its own, so no series is reported twice.
   */
  exported = true
  #unregister: (() => void) | null = null

  abstract collect(sink: MetricSink): void

  /** The client connected: exporters read it from now on. */
  start(): void {
    this.active = true
    if (this.exported) this.#unregister ??= registerOtelMetrics(this)
  }

  /** The client disconnected: exporters skip it, its OpenTelemetry callback is removed. */
  stop(): void {
    this.active = false
    this.#unregister?.()
    this.#unregister = null
  }
}
