import { candidatePartitions } from './types.js'
import type { Partitioner, PartitionerContext } from './types.js'

/** Every record (keyed or not) to the next partition of its topic in turn, like Java's `RoundRobinPartitioner`. */
export function roundRobin<K = unknown, V = unknown>(): Partitioner<K, V> {
  const counters = new Map<string, number>()
  return {
    name: 'round-robin',
    partition(ctx: PartitionerContext<K, V>): number {
      const n = counters.get(ctx.topic) ?? 0
      counters.set(ctx.topic, (n + 1) % 0x7fffffff)
      const candidates = candidatePartitions(ctx)
      if (candidates !== null) return candidates[n % candidates.length]!
      return n % ctx.partitionCount
    },
  }
}
