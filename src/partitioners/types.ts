/** What a partitioner is told about one record. */
export interface PartitionerContext<K = unknown, V = unknown> {
  topic: string
  /** The key as the user gave it. */
  key: K | null
  /** The serialized key (what murmur2 hashes); `null` for a record without key. */
  keyBytes: Buffer | null
  value: V
  /** An explicit partition from `send()`; wins over the partitioner when set. */
  partition?: number
  /** Number of partitions of the topic. */
  partitionCount: number
  /** Partitions that have a leader now; sticky and round-robin prefer them (as the Java client does). */
  availablePartitions?: readonly number[]
  /** Serialized size of the record in bytes; lets the sticky partitioner switch after `batchSize` bytes (KIP-794). */
  recordSize?: number
}

/** Chooses a partition for a record. Built-ins are one file each in `src/partitioners/`. */
export interface Partitioner<K = unknown, V = unknown> {
  /** Name used in errors and `explainConfig`. */
  readonly name: string
  /** Returns a partition in `[0, ctx.partitionCount)`. */
  partition(ctx: PartitionerContext<K, V>): number
  /** Called by the accumulator when the batch of `topic`/`partition` is closed (full or sent). */
  onBatchClosed?(topic: string, partition: number): void
}

/** Tuning shared by the built-in partitioners. */
export interface PartitionerOptions {
  /** batch.size: the sticky partitioner moves on after this many bytes went to one partition (KIP-794). @default 16384 */
  batchSize?: number
  /** Random source in `[0, 1)` used to pick the next sticky partition. @default Math.random */
  random?: () => number
}

/** Partitions to spread unkeyed records over: the available ones when known, else all. */
export function candidatePartitions(ctx: PartitionerContext<unknown, unknown>): readonly number[] | null {
  const avail = ctx.availablePartitions
  if (avail === undefined || avail.length === 0) return null
  const inRange = avail.filter((p) => Number.isInteger(p) && p >= 0 && p < ctx.partitionCount)
  return inRange.length > 0 ? inRange : null
}

/** Whether `p` is among `candidatePartitions(ctx)` (any partition when there are none), without allocating. */
export function isCandidatePartition(ctx: PartitionerContext<unknown, unknown>, p: number): boolean {
  const avail = ctx.availablePartitions
  if (avail === undefined || avail.length === 0) return true
  const n = ctx.partitionCount
  if (Number.isInteger(p) && p >= 0 && p < n && avail.includes(p)) return true
  // Not available: still a candidate when no available partition is in range (then all are candidates).
  for (const q of avail) if (Number.isInteger(q) && q >= 0 && q < n) return false
  return true
}
