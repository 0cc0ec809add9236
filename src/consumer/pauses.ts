/**
 * Who paused a partition: the application (`consumer.pause()`) or back-pressure of out-of-order processing.
 * A partition resumes only when neither holds it any more.
 */
import type { TopicPartitions } from './assignors/index.js'
import { KafkatuneError } from '../errors.js'
import { partitionKey } from './offsets.js'

const isPartition = (p: unknown): boolean => Number.isInteger(p) && (p as number) >= 0

/**
 * `pause()`/`resume()` take `{ [topic]: partitions }`. kafkajs's `[{ topic, partitions }]` (what users coming from
 * kafkajs write) and anything else is refused here, before any partition changes, instead of failing later
 * inside a handler.
 */
export function checkTopicPartitions(partitions: unknown, call: string): asserts partitions is TopicPartitions {
  const ok =
    typeof partitions === 'object' &&
    partitions !== null &&
    !Array.isArray(partitions) &&
    Object.values(partitions).every((ps) => Array.isArray(ps) && ps.every(isPartition))
  if (!ok) {
    throw new KafkatuneError('INVALID_PARTITION', `${call}() takes { [topic]: partitions }, e.g. { orders: [0, 1] }; got ${Array.isArray(partitions) ? "an array (kafkajs's [{ topic, partitions }] shape)" : JSON.stringify(partitions) ?? String(partitions)}`, {
      retriable: false,
      details: { call },
    })
  }
}

const OFFSET = /^(\d+|-1|-2)$/

/**
 * `seek()` takes a topic, a partition number and an offset: a string of digits, or '-1' (latest) / '-2' (earliest)
 * as kafkajs allows; a safe integer is taken as its string. Returns the position to hand to kafkajs.
 */
export function checkPosition(position: unknown): { topic: string; partition: number; offset: string } {
  const p = position as { topic?: unknown; partition?: unknown; offset?: unknown } | null
  const offset = typeof p?.offset === 'number' && Number.isSafeInteger(p.offset) ? String(p.offset) : p?.offset
  if (typeof p === 'object' && p !== null && typeof p.topic === 'string' && p.topic !== '' && isPartition(p.partition) && typeof offset === 'string' && OFFSET.test(offset)) {
    return { topic: p.topic, partition: p.partition as number, offset }
  }
  throw new KafkatuneError('INVALID_PARTITION', `seek() takes { topic, partition, offset } with a partition number and the offset as a string of digits ('-2' earliest, '-1' latest), e.g. { topic: 'orders', partition: 0, offset: '42' }; got ${JSON.stringify(position) ?? String(position)}`, {
    retriable: false,
    details: { call: 'seek' },
  })
}

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
    checkTopicPartitions(partitions, 'pause')
    this.target.pause(partitionList(partitions))
    for (const [topic, ps] of Object.entries(partitions)) for (const p of ps) this.#byUser.add(partitionKey(topic, p))
  }

  /** `consumer.resume()`: partitions held by back-pressure resume when their pending records drained, not before. */
  resumeByUser(partitions: TopicPartitions): void {
    checkTopicPartitions(partitions, 'resume')
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
