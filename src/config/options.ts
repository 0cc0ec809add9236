import type { Serializer } from '../serde/types.js'
import type {
  AssignorName,
  BuiltinPresetName,
  CommitStrategyConfig,
  ConnectionOptions,
  ConsumerTuning,
  PartitionerFn,
  PartitionerName,
  Preset,
  ProducerTuning,
  RetryPolicy,
} from './types.js'

type PresetOtherThanExactlyOnce = Exclude<BuiltinPresetName, 'exactly-once'> | Preset

/** Producer options shared by every preset choice. */
export interface ProducerBaseOptions<K, V>
  extends ConnectionOptions,
    Omit<ProducerTuning, 'partitioner' | 'keySerializer' | 'valueSerializer'> {
  /** Serializer for keys. @default serializers.string() */
  keySerializer?: Serializer<K>
  /** Serializer for values. @default serializers.string() */
  valueSerializer?: Serializer<V>
  /** How records find their partition. @default 'default' */
  partitioner?: PartitionerName | PartitionerFn<K, V>
}

/**
 * Options of `createProducer`. With `preset: 'exactly-once'` a `transactionalId` is required.
 * @example
 * createProducer({ brokers: ['127.0.0.1:9092'], preset: 'high-throughput', lingerMs: 50 })
 */
export type ProducerOptions<K = string, V = string> = ProducerBaseOptions<K, V> &
  (
    | { preset: 'exactly-once'; transactionalId: string }
    | { preset?: PresetOtherThanExactlyOnce; transactionalId?: string }
  )

/** Options of `createConsumer`. */
export interface ConsumerOptions<K = string, V = string>
  extends ConnectionOptions,
    Omit<ConsumerTuning, 'keyDeserializer' | 'valueDeserializer'> {
  preset?: BuiltinPresetName | Preset
  /** group.id */
  groupId: string
  /** Topics to subscribe to, by name or pattern. */
  topics: (string | RegExp)[]
  /** Deserializer for keys. @default serializers.string() */
  keyDeserializer?: Serializer<K>
  /** Deserializer for values. @default serializers.string() */
  valueDeserializer?: Serializer<V>
  commit?: CommitStrategyConfig
  partitionAssignors?: AssignorName[]
  retry?: RetryPolicy
}

/** What a pipeline's transform returns for one output record. */
export interface OutRecord<K, V> {
  topic?: string
  key?: K | null
  value: V
  /** An array value repeats the header name once per element, in order. */
  headers?: Record<string, string | Buffer | readonly (string | Buffer)[]>
}

/** What every pipeline takes, whatever its preset. */
export interface PipelineBaseOptions<KIn = string, VIn = string, KOut = string, VOut = string>
  extends ConnectionOptions {
  groupId: string
  from: string | string[]
  /** Topic of output records that name none. */
  to?: string
  keyDeserializer?: Serializer<KIn>
  valueDeserializer?: Serializer<VIn>
  keySerializer?: Serializer<KOut>
  valueSerializer?: Serializer<VOut>
  producer?: Omit<ProducerTuning, 'keySerializer' | 'valueSerializer'>
  consumer?: Omit<ConsumerTuning, 'keyDeserializer' | 'valueDeserializer'>
  transform: (msg: import('../messages.js').ConsumedMessage<KIn, VIn>) => Promise<OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null> | OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null
}

/**
 * The preset and the transactional id prefix: with `'exactly-once'` (the default) the prefix is required by
 * the types, as the runtime requires it (a custom preset that needs transactions is checked at run time).
 */
export type PipelineTransactions =
  | {
      /** @default 'exactly-once' */
      preset?: 'exactly-once'
      /** Stable across restarts; one transactional id per input partition is derived from it. */
      transactionalIdPrefix: string
    }
  | { preset: Exclude<BuiltinPresetName, 'exactly-once'> | Preset; transactionalIdPrefix?: string }

/** Options of `createPipeline` (consume-transform-produce). */
export type PipelineOptions<KIn = string, VIn = string, KOut = string, VOut = string> = PipelineBaseOptions<KIn, VIn, KOut, VOut> & PipelineTransactions
