/**
 * What the rest of kafkatune reads from the settings table: defaults, reasons, Java names, the zod shapes and
 * what a pipeline does with each tuning option. Nothing here is written by hand a second time.
 */
import type { ConsumerTuning, ProducerTuning } from '../types.js'
import { CONNECTION_SETTINGS, PRESET } from './connection.js'
import { CONSUMER_SETTINGS, GROUP_ID, TOPICS } from './consumer.js'
import { PIPELINE_SETTINGS } from './pipeline.js'
import { PRODUCER_SETTINGS, TRANSACTIONAL_ID } from './producer.js'
import { javaAliases, javaProperty, mapSettings, type AnySetting } from './setting.js'

export { CONNECTION_SETTINGS, PRESET } from './connection.js'
export { CONSUMER_SETTINGS, GROUP_ID, TOPICS } from './consumer.js'
export { PIPELINE_SETTINGS } from './pipeline.js'
export { PRODUCER_SETTINGS, TRANSACTIONAL_ID } from './producer.js'
export { javaProperty, javaAliases, shapeOf, JAVA_DEFAULT } from './setting.js'
export type { AnySetting, JavaName, KafkajsMapping, PipelineUse, Setting, TuningSetting } from './setting.js'

/** Every option of every factory by name (a name shared by two sides is the same option). */
export const ALL_SETTINGS: Readonly<Record<string, AnySetting>> = Object.freeze({
  ...CONNECTION_SETTINGS,
  preset: PRESET,
  ...PRODUCER_SETTINGS,
  transactionalId: TRANSACTIONAL_ID,
  ...CONSUMER_SETTINGS,
  groupId: GROUP_ID,
  topics: TOPICS,
  ...PIPELINE_SETTINGS,
})

/**
 * The Apache Kafka 4.x Java client defaults: what a setting is when neither a preset nor an option
 * gives it, so Kafka people meet the values they know.
 */
export const PRODUCER_DEFAULTS = Object.freeze(mapSettings(PRODUCER_SETTINGS, (s) => s.default)) as Readonly<Required<ProducerTuning>>

/** Consumer defaults; where kafkatune cannot match Java, the reason says why. */
export const CONSUMER_DEFAULTS = Object.freeze(mapSettings(CONSUMER_SETTINGS, (s) => s.default)) as Readonly<
  Required<Omit<ConsumerTuning, 'retry' | 'deadLetterTopic'>> & Pick<ConsumerTuning, 'retry' | 'deadLetterTopic'>
>

/** Why a default is what it is, by option. */
export const DEFAULT_REASONS: Readonly<Record<string, string>> = Object.freeze(mapSettings(ALL_SETTINGS, (s) => s.reason))

/** The Java client property behind each option, as `explainConfig` shows it (null where Kafka has none). */
export const JAVA_PROPERTIES: Readonly<Record<string, string | null>> = Object.freeze(mapSettings(ALL_SETTINGS, (s) => javaProperty(s.java)))

/** Java names people type by habit, mapped to kafkatune's option names (the "did you mean" of a Java name). */
export const JAVA_NAMES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ALL_SETTINGS).flatMap(([option, s]) => javaAliases(s.java).filter((name) => name !== option).map((name) => [name, option])),
  ),
)

/** Tuning options a pipeline applies (`applied`) or refuses (`rejected`), with how or why. */
function pipelineUse<S extends Record<string, AnySetting>>(table: S, use: 'applied' | 'rejected'): Readonly<Partial<Record<keyof S, string>>> {
  const out: Partial<Record<keyof S, string>> = {}
  for (const [option, s] of Object.entries(table) as [keyof S, AnySetting][]) {
    const p = s.pipeline
    if (p !== undefined && use in p) out[option] = (p as Record<string, string>)[use]
  }
  return Object.freeze(out)
}

export const PIPELINE_PRODUCER_APPLIED = pipelineUse(PRODUCER_SETTINGS, 'applied')
export const PIPELINE_PRODUCER_REJECTED = pipelineUse(PRODUCER_SETTINGS, 'rejected')
export const PIPELINE_CONSUMER_APPLIED = pipelineUse(CONSUMER_SETTINGS, 'applied')
export const PIPELINE_CONSUMER_REJECTED = pipelineUse(CONSUMER_SETTINGS, 'rejected')
