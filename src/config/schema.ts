/** The zod schemas of presets and factory options, built from the settings table. */
import { z } from 'zod'
import { CONNECTION_SETTINGS, CONSUMER_SETTINGS, GROUP_ID, PIPELINE_SETTINGS, PRESET, PRODUCER_SETTINGS, TOPICS, TRANSACTIONAL_ID, shapeOf } from './settings/index.js'
import { posInt } from './settings/setting.js'

/**
 * `brokers` is the one connection option without a default. `preset` is checked by `resolvePreset` alone
 * (a name, or a whole preset object), so one mistake there is reported once, with the names to choose from.
 */
export const connectionShape = { ...shapeOf(CONNECTION_SETTINGS, 'option'), brokers: CONNECTION_SETTINGS.brokers.schema, preset: PRESET.schema.optional() }
export const producerTuningShape = shapeOf(PRODUCER_SETTINGS, 'preset')
export const consumerTuningShape = shapeOf(CONSUMER_SETTINGS, 'preset')

export const topicTuningShape = z.strictObject({
  partitions: posInt.optional(),
  replicationFactor: posInt.optional(),
  config: z.record(z.string(), z.string()).optional(),
})

export const producerTuningSchema = PIPELINE_SETTINGS.producer.schema
export const consumerTuningSchema = PIPELINE_SETTINGS.consumer.schema

export const presetSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  requiresTransactionalId: z.boolean().optional(),
  producer: producerTuningSchema,
  consumer: consumerTuningSchema,
  topic: topicTuningShape.optional(),
  reasons: z
    .strictObject({
      producer: z.record(z.string(), z.string()).optional(),
      consumer: z.record(z.string(), z.string()).optional(),
      topic: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
})

export const producerOptionsSchema = z.strictObject({
  ...connectionShape,
  ...shapeOf(PRODUCER_SETTINGS, 'option'),
  transactionalId: TRANSACTIONAL_ID.schema.optional(),
})

export const consumerOptionsSchema = z.strictObject({
  ...connectionShape,
  ...shapeOf(CONSUMER_SETTINGS, 'option'),
  groupId: GROUP_ID.schema,
  topics: TOPICS.schema,
})

/** A pipeline's own options (required: groupId, from, transform), its serializers and both sides' tuning. */
export const pipelineOptionsSchema = z.strictObject({
  ...connectionShape,
  groupId: GROUP_ID.schema,
  from: PIPELINE_SETTINGS.from.schema,
  to: PIPELINE_SETTINGS.to.schema.optional(),
  transactionalIdPrefix: PIPELINE_SETTINGS.transactionalIdPrefix.schema.optional(),
  keyDeserializer: CONSUMER_SETTINGS.keyDeserializer.optionSchema.optional(),
  valueDeserializer: CONSUMER_SETTINGS.valueDeserializer.optionSchema.optional(),
  keySerializer: PRODUCER_SETTINGS.keySerializer.optionSchema.optional(),
  valueSerializer: PRODUCER_SETTINGS.valueSerializer.optionSchema.optional(),
  producer: PIPELINE_SETTINGS.producer.schema.optional(),
  consumer: PIPELINE_SETTINGS.consumer.schema.optional(),
  transform: PIPELINE_SETTINGS.transform.schema,
})
