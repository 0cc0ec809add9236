/**
 * Pipeline settings: the pipeline's options become one producer and one consumer configuration (default
 * preset `exactly-once`); options a pipeline cannot apply are refused (`pipeline-options.ts`).
 */
import { ConfigError } from '../errors.js'
import type { ConfigProblem } from '../errors.js'
import type { ConsumerOptions, PipelineOptions, ProducerOptions } from './options.js'
import { pipelineOptionProblems } from './pipeline-options.js'
import { bySide, zodProblems } from './problems.js'
import type { ConsumerSettings, ProducerSettings } from './resolved.js'
import { resolveConsumer, resolvePreset, resolveProducer } from './resolve.js'
import { pipelineOptionsSchema } from './schema.js'

export interface PipelineSettings {
  producer: ProducerSettings
  consumer: ConsumerSettings
  transactionalIdPrefix: string | null
  exactlyOnce: boolean
}

type AnyPipelineOptions = PipelineOptions<unknown, unknown, unknown, unknown>
const knownAt = bySide(Object.keys(pipelineOptionsSchema.shape))

/** The producer and consumer options a pipeline's options stand for (after the pipeline-level checks). */
function sides(options: AnyPipelineOptions): { producer: ProducerOptions<unknown, unknown>; consumer: ConsumerOptions<unknown, unknown>; exactlyOnce: boolean } {
  const problems: ConfigProblem[] = []
  const parsed = pipelineOptionsSchema.safeParse(options)
  if (!parsed.success) problems.push(...zodProblems(parsed.error, knownAt))
  const presetRef = options.preset ?? 'exactly-once'
  const preset = resolvePreset(presetRef, problems)
  const exactlyOnce = !!preset?.requiresTransactionalId
  if (exactlyOnce && !options.transactionalIdPrefix)
    problems.push({ option: 'transactionalIdPrefix, preset', message: `preset '${preset?.name}' needs a transactionalIdPrefix that stays the same across restarts` })
  problems.push(...pipelineOptionProblems(options.producer as Record<string, unknown> | undefined, options.consumer as Record<string, unknown> | undefined))
  if (problems.length) throw new ConfigError(problems, 'pipeline configuration')
  const conn = { brokers: options.brokers, clientId: options.clientId, ssl: options.ssl, sasl: options.sasl, logger: options.logger, kafkajs: options.kafkajs }
  return {
    exactlyOnce,
    producer: {
      ...conn,
      ...(options.producer ?? {}),
      preset: presetRef as 'low-latency',
      transactionalId: exactlyOnce ? `${options.transactionalIdPrefix}-probe` : undefined,
      keySerializer: options.keySerializer,
      valueSerializer: options.valueSerializer,
    } as ProducerOptions<unknown, unknown>,
    consumer: {
      ...conn,
      ...(options.consumer ?? {}),
      preset: presetRef,
      groupId: options.groupId,
      topics: Array.isArray(options.from) ? options.from : [options.from],
      keyDeserializer: options.keyDeserializer,
      valueDeserializer: options.valueDeserializer,
    } as ConsumerOptions<unknown, unknown>,
  }
}

/** Resolves both sides, collecting every problem of both (prefixed `producer.` / `consumer.`). */
export function resolveSides(options: AnyPipelineOptions) {
  const s = sides(options)
  const collected: ConfigProblem[] = []
  const attempt = <T>(prefix: string, fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      collected.push(...err.problems.map((p) => ({ option: `${prefix}.${p.option}`, message: p.message })))
      return undefined
    }
  }
  const producer = attempt('producer', () => resolveProducer(s.producer))
  const consumer = attempt('consumer', () => resolveConsumer(s.consumer))
  if (collected.length || !producer || !consumer) throw new ConfigError(collected, 'pipeline configuration')
  return { producer, consumer, exactlyOnce: s.exactlyOnce }
}

/** Validates pipeline options (default preset 'exactly-once'). Throws `ConfigError`. */
export function resolvePipelineConfig(options: AnyPipelineOptions): PipelineSettings {
  const { producer, consumer, exactlyOnce } = resolveSides(options)
  return Object.freeze({
    producer: producer.settings as ProducerSettings,
    consumer: consumer.settings as ConsumerSettings,
    transactionalIdPrefix: options.transactionalIdPrefix ?? null,
    exactlyOnce,
  })
}
