/**
 * The partition a record goes to: the configured partitioner, asked with one context object reused for
 * every record (partitioners are synchronous and must not keep it).
 */
import type { Partitioner, PartitionerContext } from '../partitioners/index.js'
import type { PendingSend } from './pending-send.js'

export type ChoosePartition<K, V> = (a: PendingSend, topic: string, explicit: number | undefined, key: K | null, value: V, partitionCount: number) => number

export function partitionChooser<K, V>(partitioner: Partitioner<K, V>, availablePartitions: (topic: string) => readonly number[] | undefined): ChoosePartition<K, V> {
  const ctx: PartitionerContext<K, V> = { topic: '', key: null, keyBytes: null, value: undefined as V, partitionCount: 0 }
  return (a, topic, explicit, key, value, partitionCount) => {
    ctx.topic = topic
    ctx.key = key
    ctx.keyBytes = a.key
    ctx.value = value
    ctx.partition = explicit
    ctx.partitionCount = partitionCount
    ctx.availablePartitions = availablePartitions(topic)
    ctx.recordSize = a.size
    try {
      return partitioner.partition(ctx)
    } finally {
      ctx.key = null
      ctx.value = undefined as V
    }
  }
}
