import type { Logger } from '../logging/types.js'
import { ConfigError, type ConfigProblem } from '../errors.js'
import { serializerByName } from '../serde/index.js'
import type { Serializer, SerializerName } from '../serde/types.js'
import { presets as builtinPresets } from '../../presets/index.js'
import { CONSUMER_DEFAULTS, DEFAULT_REASONS, PRODUCER_DEFAULTS } from './settings/index.js'
import { getDefaultLogger } from './logger.js'
import { clientLogger } from '../logging/fields.js'
import type { ConsumerOptions, ProducerOptions } from './options.js'
import { bySide, zodProblems } from './problems.js'
import type { ConsumerSettings, ProducerSettings, ResolvedConnection } from './resolved.js'
import { consumerOptionsSchema, presetSchema, producerOptionsSchema } from './schema.js'
import type { ConsumerTuning, Preset, PresetRef, ProducerTuning, SettingSource } from './types.js'

/** Typo help in a preset: each side's options inside `producer`/`consumer`, both sides' elsewhere. */
const PRESET_KNOWN = bySide([...Object.keys(PRODUCER_DEFAULTS), ...Object.keys(CONSUMER_DEFAULTS)])

export const SET_EXPLICITLY = 'set explicitly in the options'

/** A resolved setting plus why it has its value. */
export interface Traced {
  values: Record<string, unknown>
  sources: Record<string, SettingSource>
  reasons: Record<string, string>
}

function describeValue(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v
}

/** Resolves a preset reference to a validated preset, collecting problems. */
export function resolvePreset(ref: PresetRef | undefined, problems: ConfigProblem[]): Preset | null {
  if (ref === undefined) return null
  if (typeof ref === 'string') {
    const p = builtinPresets[ref]
    if (!p) {
      problems.push({ option: 'preset', message: `unknown preset '${String(ref)}': use one of ${Object.keys(builtinPresets).join(', ')} or definePreset()` })
      return null
    }
    return p
  }
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) {
    problems.push({ option: 'preset', message: `must be a preset name (${Object.keys(builtinPresets).join(', ')}) or a preset object from definePreset(), got ${describeValue(ref)}` })
    return null
  }
  const parsed = presetSchema.safeParse(ref)
  if (!parsed.success) {
    problems.push(...zodProblems(parsed.error, PRESET_KNOWN, 'preset.'))
    return null
  }
  return ref
}

function trace(
  keys: readonly string[],
  defaults: object,
  preset: Preset | null,
  presetTuning: object | undefined,
  presetReasons: Readonly<Record<string, string | undefined>> | undefined,
  options: Record<string, unknown>,
): Traced {
  const out: Traced = { values: {}, sources: {}, reasons: {} }
  for (const k of keys) {
    if (options[k] !== undefined) {
      out.values[k] = options[k]
      out.sources[k] = 'option'
      out.reasons[k] = SET_EXPLICITLY
    } else if (presetTuning && (presetTuning as Record<string, unknown>)[k] !== undefined) {
      out.values[k] = (presetTuning as Record<string, unknown>)[k]
      out.sources[k] = 'preset'
      out.reasons[k] = presetReasons?.[k] ?? `set by preset '${preset?.name ?? '?'}'`
    } else {
      out.values[k] = (defaults as Record<string, unknown>)[k]
      out.sources[k] = 'default'
      out.reasons[k] = DEFAULT_REASONS[k]!
    }
  }
  return out
}

function connection(options: { brokers: string[]; clientId?: string; ssl?: unknown; sasl?: unknown; logger?: Logger; kafkajs?: object }): ResolvedConnection {
  return {
    brokers: Object.freeze([...options.brokers]),
    clientId: options.clientId ?? 'kafkatune',
    ssl: options.ssl as ResolvedConnection['ssl'],
    sasl: options.sasl as ResolvedConnection['sasl'],
    logger: options.logger ?? getDefaultLogger(),
    kafkajs: (options.kafkajs ?? {}) as ResolvedConnection['kafkajs'],
  }
}

function freezeDeep<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !isOpaque(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) freezeDeep(v)
  }
  return value
}
function isOpaque(v: object): boolean {
  // Loggers, serializers, functions and regexps belong to the caller; never freeze them.
  return typeof v === 'function' || v instanceof RegExp || Buffer.isBuffer(v) || typeof (v as { child?: unknown }).child === 'function'
}

/** The serializer an option gives (traced as 'option'), else the one the tuning names. */
function pickSerde<T>(traced: Traced, option: string, given: Serializer<T> | undefined, named: SerializerName): Serializer<T> {
  if (given === undefined) return serializerByName(named) as Serializer<T>
  traced.sources[option] = 'option'
  traced.values[option] = given.name ?? 'custom'
  return given
}

const SIDES = {
  producer: { schema: producerOptionsSchema, defaults: PRODUCER_DEFAULTS, needs: 'createProducer needs an options object with at least `brokers`' },
  consumer: { schema: consumerOptionsSchema, defaults: CONSUMER_DEFAULTS, needs: 'createConsumer needs an options object with brokers, groupId and topics' },
} as const

/** What both sides do first: check the options against their schema, find the preset, trace every tuning value. */
function begin(side: keyof typeof SIDES, options: { preset?: PresetRef } | null): { problems: ConfigProblem[]; preset: Preset | null; traced: Traced; parsed: boolean } {
  const { schema, defaults, needs } = SIDES[side]
  if (options === null || typeof options !== 'object') throw new ConfigError([{ option: '(options)', message: needs }], `${side} configuration`)
  const problems: ConfigProblem[] = []
  const parsed = schema.safeParse(options)
  if (!parsed.success) problems.push(...zodProblems(parsed.error, Object.keys(schema.shape)))
  const preset = resolvePreset(options.preset, problems)
  const traced = trace(Object.keys(defaults), defaults, preset, preset?.[side], preset?.reasons?.[side], options as Record<string, unknown>)
  return { problems, preset, traced, parsed: parsed.success }
}

/** What both sides do last: add the connection, the preset's name and the sources, and freeze it all. */
function finish<S extends ResolvedConnection>(
  options: Parameters<typeof connection>[0],
  preset: Preset | null,
  traced: Traced,
  own: Omit<S, keyof ResolvedConnection | 'presetName' | 'sources'>,
): Resolution<S> {
  const settings = { ...connection(options), ...own, presetName: preset?.name ?? null, sources: Object.freeze({ ...traced.sources }) }
  return { settings: freezeDeep(settings) as unknown as S, traced }
}

/** Resolved settings and the trace `explainConfig` shows. */
export interface Resolution<S> {
  settings: S
  traced: Traced
}

export function resolveProducer<K, V>(options: ProducerOptions<K, V>): Resolution<ProducerSettings<K, V>> {
  const { problems, preset, traced } = begin('producer', options)
  const v = traced.values as Required<ProducerTuning>
  const transactionalId = options.transactionalId ?? null

  // Java's rule: idempotence is on by default only while nothing set conflicts with it.
  if (traced.sources.idempotent === 'default' && transactionalId === null) {
    const conflicts: string[] = []
    if (v.acks !== 'all') conflicts.push(`acks is ${String(v.acks)}`)
    if (v.retries === 0) conflicts.push('retries is 0')
    if (v.maxInFlightRequests > 5) conflicts.push(`maxInFlightRequests is ${v.maxInFlightRequests}`)
    if (conflicts.length) {
      v.idempotent = false
      traced.reasons.idempotent = `idempotence is on by default, but off here because ${conflicts.join(' and ')} (as the Java client does)`
    }
  }
  if (v.idempotent) {
    if (v.acks !== 'all')
      problems.push({ option: 'idempotent, acks', message: `idempotence needs acks 'all' (got ${String(v.acks)}): set acks: 'all' or idempotent: false` })
    if (v.retries === 0) problems.push({ option: 'idempotent, retries', message: 'idempotence needs retries > 0: raise retries or set idempotent: false' })
    if (v.maxInFlightRequests > 5)
      problems.push({ option: 'idempotent, maxInFlightRequests', message: `idempotence keeps order only with maxInFlightRequests <= 5 (got ${v.maxInFlightRequests})` })
  }
  if (transactionalId !== null && !v.idempotent)
    problems.push({ option: 'transactionalId, idempotent', message: 'a transactionalId needs idempotence: remove idempotent: false (and use acks: \'all\')' })
  if (preset?.requiresTransactionalId && transactionalId === null)
    problems.push({ option: 'transactionalId, preset', message: `preset '${preset.name}' needs a transactionalId: give a stable id per producer instance` })
  if (typeof v.lingerMs === 'number' && typeof v.requestTimeoutMs === 'number' && typeof v.deliveryTimeoutMs === 'number' && v.deliveryTimeoutMs < v.lingerMs + v.requestTimeoutMs)
    problems.push({
      option: 'deliveryTimeoutMs, lingerMs, requestTimeoutMs',
      message: `deliveryTimeoutMs (${v.deliveryTimeoutMs}) must be >= lingerMs + requestTimeoutMs (${v.lingerMs + v.requestTimeoutMs}), as in the Java client`,
    })
  if (typeof v.batchSize === 'number' && typeof v.bufferMemory === 'number' && v.batchSize > v.bufferMemory)
    problems.push({ option: 'batchSize, bufferMemory', message: `batchSize (${v.batchSize}) cannot exceed bufferMemory (${v.bufferMemory})` })
  if (typeof v.retryBackoffMs === 'number' && typeof v.retryBackoffMaxMs === 'number' && v.retryBackoffMaxMs < v.retryBackoffMs)
    problems.push({ option: 'retryBackoffMs, retryBackoffMaxMs', message: `retryBackoffMaxMs (${v.retryBackoffMaxMs}) must be >= retryBackoffMs (${v.retryBackoffMs})` })
  if (problems.length) throw new ConfigError(problems, 'producer configuration')

  const keySerializer = pickSerde(traced, 'keySerializer', options.keySerializer, v.keySerializer)
  const valueSerializer = pickSerde(traced, 'valueSerializer', options.valueSerializer, v.valueSerializer)
  if (typeof options.partitioner === 'function') traced.values.partitioner = 'custom function'

  const { partitioner: _p, keySerializer: _k, valueSerializer: _v, ...tuning } = v
  return finish<ProducerSettings<K, V>>(options, preset, traced, {
    ...tuning,
    transactionalId,
    partitioner: options.partitioner ?? v.partitioner,
    keySerializer,
    valueSerializer,
  })
}

/** Validates and resolves producer options: Kafka defaults < preset < options. Throws `ConfigError`. */
export function resolveProducerConfig<K = string, V = string>(options: ProducerOptions<K, V>): ProducerSettings<K, V> {
  return resolveProducer(options).settings
}

function consumerRules(v: Required<ConsumerTuning>, problems: ConfigProblem[], prefix = '', sources?: Readonly<Record<string, SettingSource>>): void {
  const o = (s: string) => s.split(', ').map((x) => prefix + x).join(', ')
  if (v.heartbeatIntervalMs >= v.sessionTimeoutMs)
    problems.push({
      option: o('heartbeatIntervalMs, sessionTimeoutMs'),
      message: `heartbeatIntervalMs (${v.heartbeatIntervalMs}) must be below sessionTimeoutMs (${v.sessionTimeoutMs}); a third of it is usual (${Math.floor(v.sessionTimeoutMs / 3)})`,
    })
  if (v.maxPollIntervalMs < v.sessionTimeoutMs)
    problems.push({
      option: o('maxPollIntervalMs, sessionTimeoutMs'),
      message: `maxPollIntervalMs (${v.maxPollIntervalMs}) must be >= sessionTimeoutMs (${v.sessionTimeoutMs})`,
    })
  if (v.fetchMinBytes > v.fetchMaxBytes)
    problems.push({ option: o('fetchMinBytes, fetchMaxBytes'), message: `fetchMinBytes (${v.fetchMinBytes}) must be <= fetchMaxBytes (${v.fetchMaxBytes})` })
  if (v.maxPartitionFetchBytes > v.fetchMaxBytes)
    problems.push({
      option: o('maxPartitionFetchBytes, fetchMaxBytes'),
      message: `maxPartitionFetchBytes (${v.maxPartitionFetchBytes}) must be <= fetchMaxBytes (${v.fetchMaxBytes})`,
    })
  if (Array.isArray(v.partitionAssignors) && v.partitionAssignors.includes('cooperative-sticky'))
    problems.push({
      option: o('partitionAssignors'),
      message:
        "'cooperative-sticky' needs the incremental (cooperative) rebalance protocol, which kafkajs does not speak; use 'sticky', which keeps assignments across (eager) rebalances",
    })
  if (v.ordering === 'partition' && sources?.concurrency === 'option')
    problems.push({
      option: o('concurrency, ordering'),
      message: "concurrency applies to ordering 'key' or 'unordered'; with ordering 'partition' use partitionsConsumedConcurrently (or set ordering: 'key')",
    })
  if (v.retry && v.retry.maxBackoffMs !== undefined && v.retry.maxBackoffMs < v.retry.backoffMs)
    problems.push({ option: o('retry.maxBackoffMs'), message: `retry.maxBackoffMs (${v.retry.maxBackoffMs}) must be >= retry.backoffMs (${v.retry.backoffMs})` })
}

export function resolveConsumer<K, V>(options: ConsumerOptions<K, V>): Resolution<ConsumerSettings<K, V>> {
  const { problems, preset, traced, parsed } = begin('consumer', options)
  const v = traced.values as Required<ConsumerTuning>
  if (parsed || problems.every((p) => !/heartbeat|session|poll|fetch|assignor/i.test(p.option))) consumerRules(v, problems, '', traced.sources)
  if (problems.length) throw new ConfigError(problems, 'consumer configuration')
  const warnAbove = Math.floor(v.sessionTimeoutMs / 3)
  const logger = clientLogger(options.logger ?? getDefaultLogger(), 'consumer', { clientId: options.clientId ?? 'kafkatune', groupId: options.groupId })
  if (v.heartbeatIntervalMs > warnAbove)
    logger.warn(
      { heartbeatIntervalMs: v.heartbeatIntervalMs, sessionTimeoutMs: v.sessionTimeoutMs },
      `heartbeatIntervalMs is above a third of sessionTimeoutMs (${warnAbove}): one lost heartbeat may get the member evicted`,
    )

  const keyDeserializer = pickSerde(traced, 'keyDeserializer', options.keyDeserializer, v.keyDeserializer)
  const valueDeserializer = pickSerde(traced, 'valueDeserializer', options.valueDeserializer, v.valueDeserializer)
  const { keyDeserializer: _k, valueDeserializer: _v, retry, deadLetterTopic, commit, ...tuning } = v
  return finish<ConsumerSettings<K, V>>(options, preset, traced, {
    ...tuning,
    partitionAssignors: [...v.partitionAssignors],
    commit: { ...commit },
    groupId: options.groupId,
    topics: [...options.topics],
    retry: retry ? { ...retry } : null,
    deadLetterTopic: deadLetterTopic ?? null,
    keyDeserializer,
    valueDeserializer,
  })
}

/** Validates and resolves consumer options: Kafka defaults < preset < options. Throws `ConfigError`. */
export function resolveConsumerConfig<K = string, V = string>(options: ConsumerOptions<K, V>): ConsumerSettings<K, V> {
  return resolveConsumer(options).settings
}
