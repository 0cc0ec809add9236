export { resolveProducerConfig, resolveConsumerConfig, resolvePreset } from './resolve.js'
export { explainConfig } from './explain.js'
export { resolvePipelineConfig } from './pipeline.js'
export type { PipelineSettings } from './pipeline.js'
export { definePreset } from './define-preset.js'
export type { DefinePresetInput } from './define-preset.js'
export {
  toKafkajsClientConfig,
  toKafkajsProducerConfig,
  toKafkajsConsumerConfig,
  kafkajsSendOptions,
  kafkajsCompression,
  kafkajsLogCreator,
} from '../kafkajs/config.js'
export { PRODUCER_DEFAULTS, CONSUMER_DEFAULTS, JAVA_PROPERTIES, JAVA_NAMES } from './settings/index.js'
export { BROKER_SETTINGS } from './broker.js'
export type { BrokerSetting } from './broker.js'
export { getDefaultLogger } from './logger.js'
export type * from './types.js'
export type * from './options.js'
export type * from './resolved.js'
