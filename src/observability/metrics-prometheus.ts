/**
 * Prometheus export through the application's `prom-client` (an optional peer dependency, loaded on
 * first use): one prom-client metric per catalog entry and registry, whose `collect()` reads every
 * connected client registered on that registry. One scrape reads each client once.
 */
import { createRequire } from 'node:module'
import type { Counter, Gauge, Registry } from 'prom-client'
import { KafkatuneError } from '../errors.js'
import { METRICS, labelNames, prometheusName } from './metrics-catalog.js'
import type { MetricDescriptor, MetricLabels, MetricsSource } from './metrics-catalog.js'
import { metricsSourcesOf } from './metrics-source.js'
import type { MetricsClient } from './metrics-source.js'

type PromClient = typeof import('prom-client')

let promClient: PromClient | undefined

function loadPromClient(): PromClient {
  if (promClient === undefined) {
    try {
      promClient = createRequire(import.meta.url)('prom-client') as PromClient
    } catch (err) {
      throw new KafkatuneError('CONFIG_INVALID', "registerMetrics() needs the 'prom-client' package: install it next to kafkatune (npm install prom-client)", { retriable: false, cause: err })
    }
  }
  return promClient
}

interface Sample {
  value: number
  labels: MetricLabels
}

/** Longest a scrape's values are reused by the metrics read after the first one. */
const SCRAPE_REUSE_MS = 1_000

/** The clients of one registry and the values of the scrape under way. */
class RegistryState {
  readonly sources = new Set<MetricsSource>()
  #scrape: Map<MetricDescriptor, Sample[]> | null = null
  #scrapedAt = 0

  /**
   * The samples of `metric`. A registry reads its metrics in registration order, so the first catalog
   * metric starts a scrape (each client read once) and the others reuse it.
   */
  samples(metric: MetricDescriptor): readonly Sample[] {
    const now = Date.now()
    if (this.#scrape === null || metric === METRICS[0] || now - this.#scrapedAt > SCRAPE_REUSE_MS) {
      const scrape = new Map<MetricDescriptor, Sample[]>()
      for (const source of this.sources) {
        if (!source.active) continue
        source.collect((m, value, labels) => {
          let list = scrape.get(m)
          if (list === undefined) scrape.set(m, (list = []))
          list.push({ value, labels })
        })
      }
      this.#scrape = scrape
      this.#scrapedAt = now
    }
    return this.#scrape.get(metric) ?? []
  }
}

const states = new WeakMap<Registry, RegistryState>()

function install(prom: PromClient, registry: Registry): RegistryState {
  const state = new RegistryState()
  for (const metric of METRICS) {
    const name = prometheusName(metric)
    if (registry.getSingleMetric(name) !== undefined) {
      throw new KafkatuneError('CONFIG_INVALID', `registerMetrics(): the registry already has a metric named ${name} that kafkatune did not register`, { retriable: false })
    }
    const options = { name, help: metric.help, labelNames: [...labelNames(metric.group)], registers: [registry] }
    if (metric.kind === 'counter') {
      new prom.Counter({
        ...options,
        collect(this: Counter) {
          this.reset()
          for (const s of state.samples(metric)) this.inc(s.labels, s.value)
        },
      })
    } else {
      new prom.Gauge({
        ...options,
        collect(this: Gauge) {
          this.reset()
          for (const s of state.samples(metric)) this.set(s.labels, s.value)
        },
      })
    }
  }
  return state
}

/**
 * Exposes the metrics of kafkatune producers and consumers on a `prom-client` registry, under the Java
 * client's names (`kafka_producer_record_send_total`, `kafka_consumer_records_lag`, ...) with `client_id`,
 * `group_id`, `topic` and `partition` labels. A client shows while it is connected. Call it again to add
 * clients to the same registry. Returns a function that removes these clients again.
 * @example
 * import { Registry } from 'prom-client'
 * const registry = new Registry()
 * registerMetrics(registry, producer, consumer)
 * // serve `await registry.metrics()` with content type `registry.contentType` on /metrics
 */
export function registerMetrics(registry: Registry, ...clients: MetricsClient[]): () => void {
  const sources = clients.flatMap((c) => metricsSourcesOf(c))
  const prom = loadPromClient()
  let state = states.get(registry)
  if (state === undefined) {
    state = install(prom, registry)
    states.set(registry, state)
  }
  for (const s of sources) state.sources.add(s)
  const owner = state
  return () => {
    for (const s of sources) owner.sources.delete(s)
  }
}
