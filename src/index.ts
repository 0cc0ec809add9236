export { KafkatuneError, ConfigError, isKafkatuneError, ERROR_CODES } from './errors.js'
export type { ErrorCode, ConfigProblem, KafkatuneErrorOptions } from './errors.js'
export { presets } from '../presets/index.js'
export { definePreset, explainConfig, BROKER_SETTINGS } from './config/index.js'
export type { BrokerSetting } from './config/index.js'
export type {
  Acks,
  AssignorName,
  BuiltinPresetName,
  CommitStrategyConfig as CommitStrategy,
  CompressionName,
  ConnectionOptions,
  ConsumerTuning,
  ExplainRow,
  PartitionerFn,
  PartitionerName,
  Preset,
  PresetRef,
  ProducerTuning,
  Reasons,
  RetryPolicy,
  SettingSource,
  TopicTuning,
  DefinePresetInput,
  ProducerOptions,
  ConsumerOptions,
  PipelineOptions,
  OutRecord,
  SaslOptions,
  SaslPasswordOptions,
  SaslOAuthBearerOptions,
  SaslCustomOptions,
  OAuthBearerToken,
} from './config/index.js'
export { serializers } from './serde/index.js'
export { partitioners } from './partitioners/index.js'
export type { Partitioner, PartitionerContext } from './partitioners/index.js'
export type { Serializer, SerdeContext, SerializerName } from './serde/index.js'
export type { ConsumedMessage } from './messages.js'
export { createProducer } from './producer/index.js'
export type { Producer, ProducerHeaders, ProducerRecord, RecordMetadata, ProducerMetrics, Transaction, ProducerEvents } from './producer/index.js'
export { createConsumer, DLQ_HEADERS } from './consumer/index.js'
export type {
  Consumer,
  ConsumerEvents,
  ConsumerEventMap,
  TopicPartitions,
  ConsumerMetrics,
  EachBatchHandler,
  EachMessageHandler,
  GroupJoinEvent,
  HandlerContext,
  MaxPollIntervalExceededEvent,
  PartitionsAssignedHandler,
  PartitionsRevokedHandler,
  RebalanceHandlers,
  RunHandlers,
} from './consumer/index.js'
export { createPipeline } from './pipeline/index.js'
export type { Pipeline, PipelineEvents, PipelineMetrics } from './pipeline/index.js'
export { createAdmin } from './admin/index.js'
export type { Admin, ClusterDescription, EnsureTopicOptions, GroupDescription, TopicDescription, TopicLag } from './admin/index.js'
export { loggers } from './logging/index.js'
export type { ConsoleLike, ConsoleLoggerOptions, LogFn, LogLevel, Logger, WinstonAdapterOptions, WinstonLike } from './logging/index.js'
export type { Health, HealthCheck } from './observability/health.js'
export type { ConsumerHealthOptions } from './consumer/liveness.js'
export type { ProducerHealthOptions } from './producer/health.js'
export { codecAvailable } from './codecs/index.js'
export { registerCodecs } from './kafkajs/codecs.js'
export type { CodecName } from './codecs/index.js'
export { registerMetrics } from './observability/metrics-prometheus.js'
export { METRICS as metricCatalog } from './observability/metrics-catalog.js'
export type { MetricDescriptor, MetricGroup } from './observability/metrics-catalog.js'
export type { MetricsClient } from './observability/metrics-source.js'
