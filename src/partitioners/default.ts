import { partitionForKey } from './murmur2.js'
import { sticky } from './sticky.js'
import type { Partitioner, PartitionerContext, PartitionerOptions } from './types.js'

/**
 * The Java client's default: explicit partition (handled by `createPartitioner`) > murmur2 of the
 * serialized key > uniform sticky for records without key.
 */
export function defaultPartitioner<K = unknown, V = unknown>(options: PartitionerOptions = {}): Partitioner<K, V> {
  const unkeyed = sticky<K, V>(options)
  return {
    name: 'default',
    partition(ctx: PartitionerContext<K, V>): number {
      if (ctx.keyBytes !== null) return partitionForKey(ctx.keyBytes, ctx.partitionCount)
      return unkeyed.partition(ctx)
    },
    onBatchClosed(topic: string, partition: number): void {
      unkeyed.onBatchClosed?.(topic, partition)
    },
  }
}
