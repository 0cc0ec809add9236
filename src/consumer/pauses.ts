/**
 * Who paused a partition: the application (`consumer.pause()`) or back-pressure of out-of-order processing.
 * A partition resumes only when neither holds it any more.
 */
import type { TopicPartitions } from './assignors/index.js'
import { partitionKey } from './offsets.js'

/** The kafkajs consumer's pause/resume, as the consumer runtime uses them. */
export interface PauseTarget {
  pause(topics: { topic: string; partitions: number[] }[]): void
  resume(topics: { topic: string; partitions: number[] }[]): void
}

const partitionList = (partitions: TopicPartitions): { topic: string; partitions: number[] }[] =>
  Object.entries(partitions).map(([topic, ps]) => ({ topic, partitions: ps }))

export class PauseControl {
  readonly #byUser = new Set<string>()

  constructor(
    private readonly target: PauseTarget,
    /** Back-pressure still holds this partition (its fetched records have not all been handed out). */
    private readonly heldByBackPressure: (topic: string, partition: number) => boolean,
    private readonly onResumeRefused: (err: unknown, topic: string, partition: number) => void,
  ) {}

  /** `consumer.pause()`. */
  pauseByUser(partitions: TopicPartitions): void {
    this.target.pause(partitionList(partitions))
    for (const [topic, ps] of Object.entries(partitions)) for (const p of ps) this.#byUser.add(partitionKey(topic, p))
  }

  /** `consumer.resume()`: partitions held by back-pressure resume when their pending records drained, not before. */
  resumeByUser(partitions: TopicPartitions): void {
    for (const [topic, ps] of Object.entries(partitions)) for (const p of ps) this.#byUser.delete(partitionKey(topic, p))
    const free = partitionList(partitions).map(({ topic, partitions: ps }) => ({ topic, partitions: ps.filter((p) => !this.heldByBackPressure(topic, p)) }))
    this.target.resume(free.filter((tp) => tp.partitions.length > 0))
  }

  /** Back-pressure: too many records of this partition pending. */
  pause(topic: string, partition: number): void {
    this.target.pause([{ topic, partitions: [partition] }])
  }

  /** Back-pressure released; a partition the application paused stays paused until its own resume(). */
  resume(topic: string, partition: number): void {
    if (this.#byUser.has(partitionKey(topic, partition))) return
    try {
      this.target.resume([{ topic, partitions: [partition] }])
    } catch (err) {
      // kafkajs refuses before its first run(); the pause state it would clear does not exist yet.
      this.onResumeRefused(err, topic, partition)
    }
  }
}
