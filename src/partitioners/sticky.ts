import { candidatePartitions, isCandidatePartition } from './types.js'
import type { Partitioner, PartitionerContext, PartitionerOptions } from './types.js'

interface StickyState {
  partition: number
  /** Bytes sent to `partition` since it was chosen. */
  bytes: number
  /** Set when the batch closed or `batchSize` bytes were reached: the next record picks a new partition. */
  switchNext: boolean
}

/**
 * Uniform sticky partitioning (KIP-480 / KIP-794): every record of a topic goes to one partition until
 * that partition's batch is closed or `batchSize` bytes went to it, then a random other partition is chosen.
 * Keys are ignored; `default` uses this only for unkeyed records.
 */
export function sticky<K = unknown, V = unknown>(options: PartitionerOptions = {}): Partitioner<K, V> {
  const batchSize = options.batchSize ?? 16_384
  const random = options.random ?? Math.random
  const state = new Map<string, StickyState>()

  function pick(ctx: PartitionerContext<K, V>, previous: number | undefined): number {
    const candidates = candidatePartitions(ctx)
    const count = candidates === null ? ctx.partitionCount : candidates.length
    const at = (i: number): number => (candidates === null ? i : candidates[i]!)
    if (count <= 1) return at(0)
    const prevIndex = previous === undefined ? -1 : candidates === null ? previous : candidates.indexOf(previous)
    if (prevIndex < 0 || prevIndex >= count) return at(Math.min(count - 1, Math.floor(random() * count)))
    // A uniform pick among the others, so a switch always moves on (KIP-480's StickyPartitionCache does the same).
    const offset = 1 + Math.min(count - 2, Math.floor(random() * (count - 1)))
    return at((prevIndex + offset) % count)
  }

  // Runs for every record: no candidate list is built here (that would allocate per record).
  function usable(ctx: PartitionerContext<K, V>, p: number): boolean {
    return p < ctx.partitionCount && isCandidatePartition(ctx, p)
  }

  return {
    name: 'sticky',
    partition(ctx: PartitionerContext<K, V>): number {
      let s = state.get(ctx.topic)
      if (s === undefined) {
        s = { partition: pick(ctx, undefined), bytes: 0, switchNext: false }
        state.set(ctx.topic, s)
      } else if (s.switchNext || !usable(ctx, s.partition)) {
        s.partition = pick(ctx, s.partition)
        s.bytes = 0
        s.switchNext = false
      }
      if (ctx.recordSize !== undefined) {
        s.bytes += ctx.recordSize
        if (s.bytes >= batchSize) s.switchNext = true
      }
      return s.partition
    },
    onBatchClosed(topic: string, partition: number): void {
      const s = state.get(topic)
      if (s !== undefined && s.partition === partition) s.switchNext = true
    },
  }
}
