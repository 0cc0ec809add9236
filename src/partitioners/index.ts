import { KafkatuneError } from '../errors.js'
import type { PartitionerFn, PartitionerName } from '../config/types.js'
import { custom } from './custom.js'
import { defaultPartitioner } from './default.js'
import { murmur2 } from './murmur2.js'
import { roundRobin } from './round-robin.js'
import { sticky } from './sticky.js'
import type { Partitioner, PartitionerContext, PartitionerOptions } from './types.js'

export type { Partitioner, PartitionerContext, PartitionerOptions } from './types.js'
export type { PartitionerFn, PartitionerName } from '../config/types.js'
export { murmur2Hash, toPositive, partitionForKey } from './murmur2.js'

/** Built-in partitioners, each a factory returning a fresh `Partitioner` (state is per producer). */
export const partitioners = {
  default: defaultPartitioner,
  murmur2,
  sticky,
  roundRobin,
  custom,
}

/** Throws `INVALID_PARTITION` unless `partition` is an integer in `[0, partitionCount)`. */
export function validatePartition(partition: number, partitionCount: number, topic: string, source: string): number {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw new KafkatuneError(
      'INVALID_PARTITION',
      `${source} gave partition ${String(partition)} for topic "${topic}", which has ${partitionCount} partition${partitionCount === 1 ? '' : 's'}: expected an integer in [0, ${partitionCount})`,
      { retriable: false, details: { topic, partition, partitionCount, source } },
    )
  }
  return partition
}

function byName<K, V>(name: PartitionerName, options: PartitionerOptions): Partitioner<K, V> {
  switch (name) {
    case 'default':
      return defaultPartitioner<K, V>(options)
    case 'murmur2':
      return murmur2<K, V>()
    case 'sticky':
      return sticky<K, V>(options)
    case 'round-robin':
      return roundRobin<K, V>()
    default:
      throw new KafkatuneError(
        'CONFIG_INVALID',
        `Unknown partitioner "${String(name)}": expected 'default', 'murmur2', 'sticky', 'round-robin' or a function`,
        { retriable: false },
      )
  }
}

/**
 * The partitioner a producer uses: an explicit `partition` wins, else the named (or custom) strategy;
 * every result is checked to lie in `[0, partitionCount)` (`KafkatuneError` code `INVALID_PARTITION` otherwise).
 * @example createPartitioner('default', { batchSize: 16384 }).partition({ topic, key, keyBytes, value, partitionCount: 6 })
 */
export function createPartitioner<K = unknown, V = unknown>(
  nameOrFn: PartitionerName | PartitionerFn<K, V> | Partitioner<K, V>,
  options: PartitionerOptions = {},
): Partitioner<K, V> {
  const inner: Partitioner<K, V> =
    typeof nameOrFn === 'function' ? custom(nameOrFn) : typeof nameOrFn === 'string' ? byName<K, V>(nameOrFn, options) : nameOrFn
  const wrapped: Partitioner<K, V> = {
    name: inner.name,
    partition(ctx: PartitionerContext<K, V>): number {
      if (!Number.isInteger(ctx.partitionCount) || ctx.partitionCount < 1) {
        throw new KafkatuneError('INVALID_PARTITION', `Topic "${ctx.topic}" has no partitions known (partitionCount ${String(ctx.partitionCount)})`, {
          retriable: true,
          details: { topic: ctx.topic, partitionCount: ctx.partitionCount },
        })
      }
      if (ctx.partition !== undefined && ctx.partition !== null) {
        return validatePartition(ctx.partition, ctx.partitionCount, ctx.topic, 'The explicit partition of send()')
      }
      let chosen: number
      try {
        chosen = inner.partition(ctx)
      } catch (err) {
        if (err instanceof KafkatuneError) throw err
        throw new KafkatuneError('INVALID_PARTITION', `Partitioner "${inner.name}" threw for topic "${ctx.topic}": ${String(err)}`, {
          cause: err,
          retriable: false,
          details: { topic: ctx.topic },
        })
      }
      return validatePartition(chosen, ctx.partitionCount, ctx.topic, `Partitioner "${inner.name}"`)
    },
  }
  if (inner.onBatchClosed !== undefined) {
    const onBatchClosed = inner.onBatchClosed.bind(inner)
    wrapped.onBatchClosed = (topic, partition) => onBatchClosed(topic, partition)
  }
  return wrapped
}
