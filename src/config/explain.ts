/**
 * `explainConfig`: one row per effective setting, its Java name and reason from the settings table, its value
 * and source from the resolution. Opens no connection.
 */
import { ConfigError } from '../errors.js'
import type { ConsumerOptions, PipelineOptions, ProducerOptions } from './options.js'
import { resolveSides } from './pipeline.js'
import { SET_EXPLICITLY, resolveConsumer, resolveProducer, type Traced } from './resolve.js'
import type { ResolvedConnection } from './resolved.js'
import { redactSasl, redactSsl } from './sasl.js'
import { JAVA_PROPERTIES, PIPELINE_CONSUMER_REJECTED, PIPELINE_PRODUCER_REJECTED, TRANSACTIONAL_ID } from './settings/index.js'
import type { ExplainRow } from './types.js'

type AnyPipelineOptions = PipelineOptions<unknown, unknown, unknown, unknown>

const javaOf = (option: string): string | null => JAVA_PROPERTIES[option] ?? null

/** `ssl` and `sasl` rows (only when set), secrets shown as `[redacted]`. */
function securityRows(settings: ResolvedConnection): ExplainRow[] {
  const out: ExplainRow[] = []
  if (settings.ssl !== undefined) {
    out.push({ option: 'ssl', javaProperty: javaOf('ssl'), value: redactSsl(settings.ssl), source: 'option', reason: 'set explicitly in the options (private keys and passphrases redacted)' })
  }
  if (settings.sasl !== undefined) {
    out.push({ option: 'sasl', javaProperty: javaOf('sasl'), value: redactSasl(settings.sasl), source: 'option', reason: 'set explicitly in the options (passwords, tokens and providers redacted)' })
  }
  return out
}

/** The `groupId` row: always given, so always an option. */
function groupIdRow(settings: { groupId: string }): ExplainRow {
  return { option: 'groupId', javaProperty: javaOf('groupId'), value: settings.groupId, source: 'option', reason: SET_EXPLICITLY }
}

function rows(traced: Traced, extra: ExplainRow[]): ExplainRow[] {
  const out: ExplainRow[] = Object.keys(traced.values).map((option) => ({
    option,
    javaProperty: javaOf(option),
    value: traced.values[option],
    source: traced.sources[option]!,
    reason: traced.reasons[option]!,
  }))
  return [...out, ...extra]
}

/**
 * One row per effective setting: value, Java property, where it came from and why.
 * Validates like the factories (throws the same `ConfigError`) but opens no connection.
 * @example explainConfig('producer', { brokers: ['127.0.0.1:9092'], preset: 'high-throughput' })
 */
export function explainConfig<K, V>(kind: 'producer', options: ProducerOptions<K, V>): ExplainRow[]
export function explainConfig<K, V>(kind: 'consumer', options: ConsumerOptions<K, V>): ExplainRow[]
export function explainConfig<KIn, VIn, KOut, VOut>(kind: 'pipeline', options: PipelineOptions<KIn, VIn, KOut, VOut>): ExplainRow[]
export function explainConfig(
  kind: 'producer' | 'consumer' | 'pipeline',
  options: ProducerOptions<unknown, unknown> | ConsumerOptions<unknown, unknown> | PipelineOptions<unknown, unknown, unknown, unknown>,
): ExplainRow[] {
  if (kind === 'pipeline') return explainPipeline(options as AnyPipelineOptions)
  if (kind === 'producer') {
    const { settings, traced } = resolveProducer(options as ProducerOptions<unknown, unknown>)
    return rows(traced, [
      {
        option: 'transactionalId',
        javaProperty: javaOf('transactionalId'),
        value: settings.transactionalId,
        source: settings.transactionalId === null ? 'default' : 'option',
        reason: settings.transactionalId === null ? TRANSACTIONAL_ID.reason : SET_EXPLICITLY,
      },
      ...securityRows(settings),
    ])
  }
  if (kind === 'consumer') {
    const { settings, traced } = resolveConsumer(options as ConsumerOptions<unknown, unknown>)
    return rows(traced, [groupIdRow(settings), ...securityRows(settings)])
  }
  throw new ConfigError([{ option: 'kind', message: `explainConfig takes 'producer', 'consumer' or 'pipeline', got '${String(kind)}'` }])
}

/**
 * `explainConfig('pipeline', options)`: both sides, each row's option prefixed `producer.` / `consumer.`;
 * a preset value the pipeline does not use says so in its reason.
 */
function explainPipeline(options: AnyPipelineOptions): ExplainRow[] {
  const { producer, consumer } = resolveSides(options)
  const side = (prefix: 'producer' | 'consumer', list: ExplainRow[], rejected: Readonly<Record<string, string | undefined>>): ExplainRow[] =>
    list.map((r) => {
      const why = rejected[r.option]
      return { ...r, option: `${prefix}.${r.option}`, reason: why === undefined ? r.reason : `not used by a pipeline (${why}); ${r.reason}` }
    })
  return [
    ...side('producer', rows(producer.traced, securityRows(producer.settings)), PIPELINE_PRODUCER_REJECTED),
    ...side('consumer', rows(consumer.traced, [groupIdRow(consumer.settings)]), PIPELINE_CONSUMER_REJECTED),
  ]
}
