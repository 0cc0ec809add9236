/**
 * Reads a partition's committed offset and offset map back when this member gets it: one read per partition and
 * join, shared by the batches that arrive meanwhile; a read the loop no longer waits for (the partition moved or
 * a join reset everything) yields a retired completion that nothing is recorded in.
 */
import type { Logger } from 'pino'
import { partitionKey } from '../offsets.js'
import { PartitionCompletion } from './completion.js'
import type { CompletionTracker } from './completion.js'
import type { CommittedOffset } from './types.js'

export class PartitionRestorer {
  readonly #restoring = new Map<string, Promise<PartitionCompletion>>()

  constructor(
    private readonly completion: CompletionTracker,
    private readonly source: { restore(topic: string, partition: number): Promise<CommittedOffset> },
    private readonly log: Logger,
    private readonly metadataMaxBytes: number,
  ) {}

  /** The partition's completion, read back from the group's commit the first time. */
  get(topic: string, partition: number): Promise<PartitionCompletion> {
    const existing = this.completion.get(topic, partition)
    if (existing !== undefined) return Promise.resolve(existing)
    const key = partitionKey(topic, partition)
    let p = this.#restoring.get(key)
    if (p === undefined) {
      p = this.source
        .restore(topic, partition)
        .catch((err: unknown) => {
          this.log.warn({ err, topic, partition }, 'cannot read the committed offset map; records completed before may be handled again')
          return { offset: null, metadata: null }
        })
        .then(({ offset, metadata }) => {
          const part = PartitionCompletion.restore(topic, partition, offset, metadata, this.metadataMaxBytes)
          if (this.#restoring.get(key) === p) this.completion.set(part)
          else part.retired = true
          return part
        })
      this.#restoring.set(key, p)
    }
    return p
  }

  forget(topic: string, partition: number): void {
    this.#restoring.delete(partitionKey(topic, partition))
  }

  clear(): void {
    this.#restoring.clear()
  }
}
