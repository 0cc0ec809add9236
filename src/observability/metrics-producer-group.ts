/**
 * Producers reported as one: a pipeline's transactional producers (one per input partition, opened and
 * closed as partitions come and go) show as one producer under the pipeline's `client_id`, with one
 * `topic` label per output topic. No series per producer: nothing goes stale when a producer closes, and
 * its counters stay in the totals, so a counter never goes down.
 */
import type { MetricSink } from './metrics-catalog.js'
import { ClientMetricSet } from './metrics-otel.js'
import { ProducerMetricSet, emptyProducerTotals } from './metrics-producer.js'
import type { ProducerTotals } from './metrics-producer.js'

export class ProducerGroupMetrics extends ClientMetricSet {
  readonly labels: { client_id: string }
  readonly #live = new Set<ProducerMetricSet>()
  readonly #retired: ProducerTotals = emptyProducerTotals()

  constructor(clientId: string) {
    super()
    this.labels = Object.freeze({ client_id: clientId })
  }

  /** Producers reported now. */
  get size(): number {
    return this.#live.size
  }

  /** Reports `set` from now on, as part of the group only (never on its own: call before it connects). */
  add(set: ProducerMetricSet): void {
    set.exported = false
    this.#live.add(set)
  }

  /** `set`'s producer closed: its counters move to the totals kept, its windowed values leave. */
  retire(set: ProducerMetricSet): void {
    if (!this.#live.delete(set)) return
    set.addTotals(this.#retired)
  }

  collect(sink: MetricSink): void {
    ProducerMetricSet.collectMerged(this.labels, [...this.#live], this.#retired, sink)
  }
}

