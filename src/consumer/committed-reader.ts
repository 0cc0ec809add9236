/**
 * The group's committed offsets (with their metadata: the offset maps of out-of-order processing), read
 * once per topic and join through one admin connection that lives while the consumer runs.
 */
import type { Admin as KafkajsAdmin, Kafka } from 'kafkajs'
import type { CommittedOffset } from './parallel/types.js'

export class CommittedOffsetsReader {
  readonly #byTopic = new Map<string, Promise<Map<number, CommittedOffset>>>()
  #admin: Promise<KafkajsAdmin> | null = null

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
  ) {}

  /** A new generation: offsets read before it may be stale. */
  clear(): void {
    this.#byTopic.clear()
  }

  /** The committed offsets of `topic` per partition (read once per join). */
  topic(topic: string): Promise<Map<number, CommittedOffset>> {
    let byPartition = this.#byTopic.get(topic)
    if (byPartition === undefined) {
      byPartition = this.#read(topic)
      this.#byTopic.set(topic, byPartition)
      byPartition.catch(() => this.#byTopic.delete(topic))
    }
    return byPartition
  }

  async partition(topic: string, partition: number): Promise<CommittedOffset> {
    return (await this.topic(topic)).get(partition) ?? { offset: null, metadata: null }
  }

  /** The admin connection (opened on first use; also used for the high watermarks of the lag). */
  admin(): Promise<KafkajsAdmin> {
    if (this.#admin === null) {
      const admin = this.kafka.admin()
      const connecting = admin.connect().then(() => admin)
      this.#admin = connecting
      connecting.catch(() => {
        if (this.#admin === connecting) this.#admin = null
      })
    }
    return this.#admin
  }

  /** Closes the admin connection, if one was opened. */
  async close(): Promise<void> {
    const admin = this.#admin
    this.#admin = null
    if (admin !== null) await admin.then((a) => a.disconnect())
  }

  async #read(topic: string): Promise<Map<number, CommittedOffset>> {
    const admin = await this.admin()
    const [result] = await admin.fetchOffsets({ groupId: this.groupId, topics: [topic] })
    const out = new Map<number, CommittedOffset>()
    for (const p of result?.partitions ?? []) {
      out.set(p.partition, { offset: p.offset === '-1' ? null : p.offset, metadata: (p as { metadata?: string | null }).metadata ?? null })
    }
    return out
  }
}
