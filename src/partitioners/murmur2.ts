import type { Partitioner, PartitionerContext } from './types.js'
import { roundRobin } from './round-robin.js'

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), returning the same signed 32-bit int as Java. */
export function murmur2Hash(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const length4 = length >> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    let k = (data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)) | 0
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  const tail = length & ~3
  switch (length % 4) {
    case 3:
      h ^= data[tail + 2]! << 16
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8
    // falls through
    case 1:
      h ^= data[tail]!
      h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, so `MIN_VALUE` maps to 0). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition the Java client picks for these key bytes: `toPositive(murmur2(key)) % partitionCount`. */
export function partitionForKey(keyBytes: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2Hash(keyBytes)) % partitionCount
}

/** Keyed records by murmur2 of the serialized key (Java-compatible); unkeyed records round-robin. */
export function murmur2<K = unknown, V = unknown>(): Partitioner<K, V> {
  const fallback = roundRobin<K, V>()
  return {
    name: 'murmur2',
    partition(ctx: PartitionerContext<K, V>): number {
      if (ctx.keyBytes === null) return fallback.partition(ctx)
      return partitionForKey(ctx.keyBytes, ctx.partitionCount)
    },
  }
}
