import { ConfigError, type ConfigProblem } from '../errors.js'
import { resolvePreset } from './resolve.js'
import type { BuiltinPresetName, ConsumerTuning, Preset, ProducerTuning, TopicTuning } from './types.js'

/** What `definePreset` takes: a base preset and the values to change. */
export interface DefinePresetInput {
  /** The preset to start from. */
  extends: BuiltinPresetName | Preset
  /** @default `${extends}-custom` */
  name?: string
  description?: string
  producer?: ProducerTuning
  consumer?: ConsumerTuning
  topic?: TopicTuning
  /** Why each changed value is what it is (shown by explainConfig). */
  reasons?: Preset['reasons']
}

/**
 * A new preset: the base preset with some values changed; validated at once.
 * @example definePreset({ extends: 'high-throughput', producer: { lingerMs: 50 } })
 */
export function definePreset(input: DefinePresetInput): Preset {
  const problems: ConfigProblem[] = []
  const base = resolvePreset(input.extends, problems)
  if (!base) throw new ConfigError(problems.length ? problems : [{ option: 'extends', message: 'needs a preset to extend' }], 'preset')
  const changed = (section: 'producer' | 'consumer' | 'topic', values: object | undefined) =>
    Object.fromEntries(
      Object.keys(values ?? {}).map((k) => [k, input.reasons?.[section]?.[k as never] ?? `changed by definePreset (extends '${base.name}')`]),
    )
  const topic: TopicTuning | undefined =
    base.topic || input.topic
      ? { ...base.topic, ...input.topic, config: { ...base.topic?.config, ...input.topic?.config } }
      : undefined
  const preset: Preset = {
    name: input.name ?? `${base.name}-custom`,
    description: input.description ?? `${base.description} (customised)`,
    ...(base.requiresTransactionalId ? { requiresTransactionalId: true } : {}),
    producer: { ...base.producer, ...input.producer },
    consumer: { ...base.consumer, ...input.consumer },
    ...(topic ? { topic } : {}),
    reasons: {
      producer: { ...base.reasons?.producer, ...changed('producer', input.producer) },
      consumer: { ...base.reasons?.consumer, ...changed('consumer', input.consumer) },
      topic: { ...base.reasons?.topic, ...changed('topic', input.topic) },
    },
  }
  const check: ConfigProblem[] = []
  resolvePreset(preset, check)
  if (check.length) throw new ConfigError(check, 'preset')
  return Object.freeze(preset)
}
