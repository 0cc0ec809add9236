import type { KafkaConfig } from 'kafkajs'
import type { Logger } from '../logging/types.js'
import type {
  CommitStrategyConfig,
  ConnectionOptions,
  ConsumerTuning,
  PartitionerFn,
  PartitionerName,
  ProducerTuning,
  RetryPolicy,
  SettingSource,
  TopicTuning,
} from './types.js'
import type { Serializer } from '../serde/types.js'

/** Connection settings after defaults: what the runtime gets. */
export interface ResolvedConnection {
  brokers: readonly string[]
  clientId: string
  ssl: ConnectionOptions['ssl']
  sasl: ConnectionOptions['sasl']
  logger: Logger
  kafkajs: Partial<KafkaConfig>
}

type Plain<T> = Required<T>

/** Fully resolved, validated, frozen producer settings. */
export interface ProducerSettings<K = unknown, V = unknown>
  extends ResolvedConnection,
    Plain<Omit<ProducerTuning, 'partitioner' | 'keySerializer' | 'valueSerializer'>> {
  presetName: string | null
  transactionalId: string | null
  partitioner: PartitionerName | PartitionerFn<K, V>
  keySerializer: Serializer<K>
  valueSerializer: Serializer<V>
  /** Where each tuning value came from (for explainConfig and logs). */
  sources: Readonly<Record<string, SettingSource>>
}

/** Fully resolved, validated, frozen consumer settings. */
export interface ConsumerSettings<K = unknown, V = unknown>
  extends ResolvedConnection,
    Plain<
      Omit<
        ConsumerTuning,
        'keyDeserializer' | 'valueDeserializer' | 'retry' | 'deadLetterTopic' | 'commit'
      >
    > {
  presetName: string | null
  groupId: string
  topics: readonly (string | RegExp)[]
  commit: CommitStrategyConfig
  retry: Readonly<RetryPolicy> | null
  deadLetterTopic: string | null
  keyDeserializer: Serializer<K>
  valueDeserializer: Serializer<V>
  sources: Readonly<Record<string, SettingSource>>
}

export type ResolvedTopicTuning = Readonly<TopicTuning>
