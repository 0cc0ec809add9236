import type { PartitionerFn } from '../config/types.js'
import type { Partitioner, PartitionerContext } from './types.js'

/** Adapts a user's `PartitionerFn` (`({ topic, key, value, partitionCount }) => number`) to a `Partitioner`. */
export function custom<K = unknown, V = unknown>(fn: PartitionerFn<K, V>, name = fn.name || 'custom'): Partitioner<K, V> {
  return {
    name,
    partition(ctx: PartitionerContext<K, V>): number {
      return fn({ topic: ctx.topic, key: ctx.key, value: ctx.value, partitionCount: ctx.partitionCount })
    },
  }
}
