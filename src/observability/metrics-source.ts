/**
 * How `registerMetrics()` finds a client's metric sources: producers and consumers carry them under a
 * symbol, which keeps them off the public types.
 */
import { KafkatuneError } from '../errors.js'
import type { MetricsSource } from './metrics-catalog.js'

const SOURCES = Symbol.for('kafkatune.metricsSources')

/** Anything kafkatune created that has metrics: a producer, a consumer (or a pipeline). */
export interface MetricsClient {
  metrics(): object
}

/** Marks `client` as reporting `sources`; returns the client. */
export function withMetricsSources<T extends object>(client: T, ...sources: MetricsSource[]): T {
  Object.defineProperty(client, SOURCES, { value: Object.freeze(sources), enumerable: false })
  return client
}

/** The metric sources of a kafkatune client; CONFIG_INVALID for anything else. */
export function metricsSourcesOf(client: MetricsClient): readonly MetricsSource[] {
  const sources = (client as { [SOURCES]?: readonly MetricsSource[] } | null)?.[SOURCES]
  if (sources === undefined) {
    throw new KafkatuneError('CONFIG_INVALID', 'registerMetrics(): expected producers, consumers or pipelines created by kafkatune (createProducer, createConsumer, createPipeline)', { retriable: false })
  }
  return sources
}
