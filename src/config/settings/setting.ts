/**
 * The shape of one row of the settings table. Each option is described once, here and nowhere else: what it
 * accepts, its default and why, its Java client name, what it becomes in kafkajs and what a pipeline does with
 * it. Schemas, defaults, Java name maps, typo help, `explainConfig` rows and the kafkajs mapping are derived.
 */
import { z } from 'zod'
import type { ConsumerConfig, KafkaConfig, ProducerConfig, RetryOptions } from 'kafkajs'

/**
 * The Java name of an option. A string is a Java client property. `properties` is an option that stands
 * for several; `of` is a name owned by something other than the client (a broker property, or Confluent's
 * Parallel Consumer). `none` says why Kafka has no such property.
 */
export type JavaName =
  | string
  | { properties: readonly [string, ...string[]] }
  | { property: string; of: 'broker' | 'ParallelConsumerOptions' }
  | { none: string }

/** Where one option goes in kafkajs: which config object, which key, converted how. */
export type KafkajsMapping<T> =
  | { to: 'producer'; option: keyof ProducerConfig | `retry.${keyof RetryOptions & string}`; convert?: (value: T) => unknown }
  | { to: 'consumer'; option: keyof ConsumerConfig; convert?: (value: T) => unknown }
  /** kafkajs takes these per `send()` call, not per producer. */
  | { to: 'send'; option: 'acks' | 'timeout' | 'compression'; convert?: (value: T) => unknown }
  /** Applied by `toKafkajsClientConfig` itself (TLS, SASL and logging need more than a copy). */
  | { to: 'client'; option: keyof KafkaConfig }

/** What a pipeline does with a producer or consumer tuning option. */
export type PipelineUse = { applied: string } | { rejected: string }

/** One option. */
export interface Setting<T> {
  /** What a preset (and so the option, unless `optionSchema` says otherwise) accepts. */
  schema: z.ZodType<T>
  /** What the factory option accepts where it is more than preset data (a function, a serializer object). */
  optionSchema?: z.ZodType
  /** The value when neither a preset nor an option sets it; `undefined` only where unset means "off". */
  default: T | undefined
  /** The Java client property (or why there is none). */
  java: JavaName
  /** Why the default is what it is: the `reason` of a default row in `explainConfig`. */
  reason: string
  /** What kafkajs gets; absent where kafkatune does the work itself. */
  kafkajs?: readonly KafkajsMapping<T>[]
}

/** A tuning option (preset data) also says what a pipeline does with it. */
export interface TuningSetting<T> extends Setting<T> {
  pipeline: PipelineUse
}

/** Any row, whatever its value type (what derivations iterate over). */
export interface AnySetting {
  schema: z.ZodType
  optionSchema?: z.ZodType
  default: unknown
  java: JavaName
  reason: string
  kafkajs?: readonly KafkajsMapping<never>[]
  pipeline?: PipelineUse
}

/** A settings table typed by the interface it describes: a key missing on either side fails to compile. */
export type SettingsOf<T> = { [K in keyof Required<T>]-?: Setting<Required<T>[K]> }
export type TuningSettingsOf<T> = { [K in keyof Required<T>]-?: TuningSetting<Required<T>[K]> }

export const JAVA_DEFAULT = 'Apache Kafka 4.x Java client default'

export const posInt = z.number().int('must be an integer').positive('must be > 0')
export const nonNegInt = z.number().int('must be an integer').nonnegative('must be >= 0')
export const serializerName = z.enum(['string', 'bytes', 'json'])
export const serializerLike = z.custom<object>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { serialize?: unknown }).serialize === 'function' &&
    typeof (v as { deserialize?: unknown }).deserialize === 'function',
  { message: 'must be a Serializer: an object with serialize() and deserialize()' },
)

/** The Java name as `explainConfig` shows it, or null where Kafka has none. */
export function javaProperty(java: JavaName): string | null {
  if (typeof java === 'string') return java
  if ('none' in java) return null
  if ('properties' in java) return java.properties.join(' / ')
  return java.of === 'broker' ? `${java.property} (broker)` : `${java.of}.${java.property}`
}

/** The names a user may type by habit for this option (Java properties, Parallel Consumer options). */
export function javaAliases(java: JavaName): readonly string[] {
  if (typeof java === 'string') return [java]
  if ('none' in java) return []
  if ('properties' in java) return java.properties
  return [java.property]
}

/** zod shape of a table, every key optional: `preset` checks preset data, `option` what a factory takes. */
export function shapeOf<S extends Record<string, AnySetting>>(table: S, form: 'preset' | 'option'): { [K in keyof S]: z.ZodOptional<z.ZodType> } {
  return mapSettings(table, (s) => ((form === 'option' && s.optionSchema) || s.schema).optional())
}

/** Each key mapped through `fn`, in the table's order. */
export function mapSettings<S extends Record<string, AnySetting>, R>(table: S, fn: (setting: S[keyof S], key: keyof S & string) => R): { [K in keyof S]: R } {
  return Object.fromEntries(Object.entries(table).map(([k, s]) => [k, fn(s as S[keyof S], k)])) as { [K in keyof S]: R }
}
