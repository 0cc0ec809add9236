/** A topic-partition and the next offset to read from it (what Kafka stores as the committed offset). */
export interface TopicPartitionOffset {
  topic: string
  partition: number
  offset: string
  /** Commit metadata (the offset map of out-of-order processing). */
  metadata?: string
}

/** `topic` + partition as one map key. */
export function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`
}

interface Entry {
  topic: string
  partition: number
  /** offset + 1 of the last finished record */
  next: bigint
  committed: bigint | null
}

/**
 * What the loop has finished and what it has committed, per partition.
 * Records of one partition finish in order, so "finished up to" is one number per partition.
 */
export class OffsetTracker {
  readonly #entries = new Map<string, Entry>()

  /** The record at `offset` finished (handled, dead-lettered or skipped on purpose). */
  finished(topic: string, partition: number, offset: string): void {
    const key = partitionKey(topic, partition)
    const next = BigInt(offset) + 1n
    const entry = this.#entries.get(key)
    if (entry === undefined) {
      this.#entries.set(key, { topic, partition, next, committed: null })
    } else if (next > entry.next) {
      entry.next = next
    }
  }

  /** Offsets (already +1, as `commitOffsets` wants them) finished but not yet committed. */
  pending(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = []
    for (const e of this.#entries.values()) {
      if (e.committed === null || e.next > e.committed) {
        out.push({ topic: e.topic, partition: e.partition, offset: e.next.toString() })
      }
    }
    return out
  }

  /** These offsets are now committed. */
  committed(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const e = this.#entries.get(partitionKey(o.topic, o.partition))
      if (e === undefined) continue
      const off = BigInt(o.offset)
      if (e.committed === null || off > e.committed) e.committed = off
    }
  }

  /** The next offset to read of every partition with progress (finished, committed or not). */
  positions(): TopicPartitionOffset[] {
    return [...this.#entries.values()].map((e) => ({ topic: e.topic, partition: e.partition, offset: e.next.toString() }))
  }

  /** Forget partitions this member no longer owns (their progress is the new owner's business). */
  retain(owned: ReadonlySet<string>): void {
    for (const key of [...this.#entries.keys()]) {
      if (!owned.has(key)) this.#entries.delete(key)
    }
  }

  /** Forget one partition (e.g. after it was reset). */
  forget(topic: string, partition: number): void {
    this.#entries.delete(partitionKey(topic, partition))
  }
}
