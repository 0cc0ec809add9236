/** The zod schemas of presets and factory options, built from the settings table. */
import { z } from 'zod'
import { CONNECTION_SETTINGS, CONSUMER_SETTINGS, GROUP_ID, PRESET, PRODUCER_SETTINGS, TOPICS, TRANSACTIONAL_ID, shapeOf } from './settings/index.js'
import { posInt, serializerLike } from './settings/setting.js'

export const connectionShape = { ...shapeOf(CONNECTION_SETTINGS, 'option'), preset: PRESET.schema.optional() }
export const producerTuningShape = shapeOf(PRODUCER_SETTINGS, 'preset')
export const consumerTuningShape = shapeOf(CONSUMER_SETTINGS, 'preset')

export const topicTuningShape = z.strictObject({
  partitions: posInt.optional(),
  replicationFactor: posInt.optional(),
  config: z.record(z.string(), z.string()).optional(),
})

export const producerTuningSchema = z.strictObject(producerTuningShape)
export const consumerTuningSchema = z.strictObject(consumerTuningShape)

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

export const pipelineOptionsSchema = z.strictObject({
  ...connectionShape,
  groupId: z.string().min(1),
  from: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  to: z.string().min(1).optional(),
  transactionalIdPrefix: z.string().min(1).optional(),
  keyDeserializer: serializerLike.optional(),
  valueDeserializer: serializerLike.optional(),
  keySerializer: serializerLike.optional(),
  valueSerializer: serializerLike.optional(),
  producer: producerTuningSchema.optional(),
  consumer: consumerTuningSchema.optional(),
  transform: z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'must be a function' }),
})
