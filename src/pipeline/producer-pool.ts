/**
 * The pipeline's producers: kafkatune producers built from the pipeline's producer settings by the same
 * code as `createProducer` (compression, batching, partitioner, acks, idempotence, retries, metrics). With
 * exactly-once there is one transactional producer per input partition (`<prefix>-<topic>-<partition>`,
 * stable across restarts): kafkajs cannot send the group metadata that KIP-447 fencing needs, so a new owner
 * of a partition fences the old one through the transactional id. Without it one plain producer serves all.
 *
 * Outputs are serialized by the transform step (a failure there is the input record's, retried or
 * dead-lettered); the producers get the bytes through `PreSerialized`, so the partitioner still sees the
 * typed key and value, and nothing is serialized twice.
 */
import type { Logger } from '../logging/types.js'
import type { ProducerSettings } from '../config/resolved.js'
import { ProducerGroupMetrics } from '../observability/metrics-producer-group.js'
import { ProducerMetricSet } from '../observability/metrics-producer.js'
import { metricsSourcesOf } from '../observability/metrics-source.js'
import { createProducerFromSettings } from '../producer/producer.js'
import type { Producer, ProducerRecord } from '../producer/types.js'
import type { Serializer } from '../serde/types.js'

/** A record the transform produced: the typed record (for the partitioner) and its serialized bytes. */
export interface StagedRecord<K, V> {
  record: ProducerRecord<K, V>
  keyBytes: Buffer | null
  valueBytes: Buffer | null
}

/**
 * Serializers that hand the producer bytes serialized earlier. `send()` serializes synchronously, so the
 * bytes are armed right before each send; anything else falls back to the real serializer.
 */
class PreSerialized<K, V> {
  #key: Buffer | null = null
  #value: Buffer | null = null
  #armed = false
  readonly keySerializer: Serializer<K>
  readonly valueSerializer: Serializer<V>

  constructor(key: Serializer<K>, value: Serializer<V>) {
    this.keySerializer = { name: key.name, deserialize: (b, c) => key.deserialize(b, c), serialize: (v, c) => (this.#armed && this.#key !== null ? this.#key : key.serialize(v, c)) }
    this.valueSerializer = {
      name: value.name,
      deserialize: (b, c) => value.deserialize(b, c),
      serialize: (v, c) => {
        const armed = this.#armed && this.#value !== null
        this.#armed = false
        return armed ? (this.#value as Buffer) : value.serialize(v, c)
      },
    }
  }

  /** Sends `s` through `send`, its bytes armed for the serializers `send()` calls synchronously. */
  send<T>(s: StagedRecord<K, V>, send: (r: ProducerRecord<K, V>) => T): T {
    this.#key = s.keyBytes
    this.#value = s.valueBytes
    this.#armed = true
    try {
      return send(s.record)
    } finally {
      this.#armed = false
      this.#key = null
      this.#value = null
    }
  }
}

/**
 * The producers' logger, with `error` lowered to `warn`: a failed batch or a fenced producer is an
 * outcome the pipeline handles (it retries the transaction or reads the partition again) and logs itself
 * at `error` only when it gives up.
 */
function handledErrorsAsWarnings(logger: Logger, groupId?: string): Logger {
  return new Proxy(logger, {
    get(target, prop, receiver) {
      if (prop === 'error') return target.warn.bind(target)
      if (prop === 'child') {
        return (bindings: Record<string, unknown>, ...rest: unknown[]) => {
          // The producers' own child loggers (clientLogger) get the pipeline's groupId, as every pipeline line does.
          const b = groupId === undefined || bindings.groupId !== undefined ? bindings : { ...bindings, groupId }
          return handledErrorsAsWarnings((target.child as (...a: unknown[]) => Logger)(b, ...rest))
        }
      }
      const value: unknown = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}

/** One pooled producer and the way to send staged records through it. */
export interface PooledProducer<K, V> {
  producer: Producer<K, V>
  /** True until its first transaction committed: its initialisation may just have fenced an earlier owner. */
  fresh: boolean
  send<T>(s: StagedRecord<K, V>, send: (r: ProducerRecord<K, V>) => T): T
}

/** An input partition. */
export interface PoolPartition {
  topic: string
  partition: number
}

/** How the pool makes a producer (a test passes its own). */
export type ProducerFactory<K, V> = (settings: ProducerSettings<K, V>) => Producer<K, V>

interface Slot<K, V> extends PoolPartition {
  pooled: Promise<PooledProducer<K, V>>
}

/** Producers per input partition (exactly-once) or one shared producer (see the file comment). */
export class ProducerPool<K, V> {
  readonly #producers = new Map<string, Slot<K, V>>()
  readonly #connected = new Map<string, PooledProducer<K, V>>()
  /** Producers being closed: `closeAll()` waits for them too. */
  readonly #closing = new Set<Promise<void>>()
  /** `metrics().retries` of producers already closed. */
  #closedRetries = 0
  /** The producers' Java-named metrics, reported as one producer under the pipeline's clientId. */
  readonly metrics: ProducerGroupMetrics

  constructor(
    private readonly settings: ProducerSettings<K, V>,
    /** The transactional id prefix, or null without exactly-once. */
    private readonly prefix: string | null,
    /** The pipeline's group: on every line the producers log (theirs and their kafkajs clients'). */
    private readonly groupId?: string,
    private readonly create: ProducerFactory<K, V> = createProducerFromSettings,
  ) {
    this.metrics = new ProducerGroupMetrics(settings.clientId)
  }

  #id(topic: string, partition: number): string {
    return this.prefix === null ? '' : `${this.prefix}-${topic}-${partition}`
  }

  /** The producer for input partition `topic`/`partition`, connected. */
  get(topic: string, partition: number): Promise<PooledProducer<K, V>> {
    const id = this.#id(topic, partition)
    const slot = this.#producers.get(id)
    if (slot !== undefined) return slot.pooled
    const p = this.#create(id)
    const created: Slot<K, V> = { topic, partition, pooled: p }
    this.#producers.set(id, created)
    p.catch(() => {
      if (this.#producers.get(id) === created) this.#producers.delete(id)
    })
    return p
  }

  /** The input partitions that have a producer (connected or connecting); none without exactly-once (one shared producer). */
  partitions(): PoolPartition[] {
    if (this.prefix === null) return []
    return [...this.#producers.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  /** Producers connected and not closed (`openProducers` of the pipeline's metrics). */
  get size(): number {
    return this.#connected.size
  }

  async #create(id: string): Promise<PooledProducer<K, V>> {
    const pre = new PreSerialized(this.settings.keySerializer, this.settings.valueSerializer)
    // `groupId` also reaches the kafkajs log bridge (logFields), which then tells it from a group kafkajs names itself.
    const settings: ProducerSettings<K, V> & { groupId?: string } = {
      ...this.settings,
      logger: handledErrorsAsWarnings(this.settings.logger, this.groupId),
      transactionalId: this.prefix === null ? null : id,
      keySerializer: pre.keySerializer,
      valueSerializer: pre.valueSerializer,
      ...(this.groupId !== undefined ? { groupId: this.groupId } : {}),
    }
    const producer = this.create(settings)
    const set = metricsSourcesOf(producer).find((m): m is ProducerMetricSet => m instanceof ProducerMetricSet)
    if (set !== undefined) this.metrics.add(set)
    try {
      await producer.connect()
    } catch (err) {
      if (set !== undefined) this.metrics.retire(set)
      throw err
    }
    const pooled: PooledProducer<K, V> = { producer, fresh: this.prefix !== null, send: (s, send) => pre.send(s, send) }
    this.#connected.set(id, pooled)
    return pooled
  }

  /** Closes and forgets the producer of a partition (fenced, or its transaction state is unknown). */
  async drop(topic: string, partition: number): Promise<void> {
    const id = this.#id(topic, partition)
    const slot = this.#producers.get(id)
    this.#producers.delete(id)
    if (slot !== undefined) await this.#close(id, slot.pooled)
  }

  /** Every connected producer checks the committed offset again before its next transaction. */
  markFresh(): void {
    if (this.prefix === null) return
    for (const p of this.#connected.values()) p.fresh = true
  }

  /** Producer requests retried so far (produce, and transaction requests after a transient answer). */
  retries(): number {
    let n = this.#closedRetries
    for (const p of this.#connected.values()) n += p.producer.metrics().retries
    return n
  }

  /** Closes every producer, and waits for those `drop()` is closing. */
  async closeAll(): Promise<void> {
    const all = [...this.#producers]
    this.#producers.clear()
    await Promise.all([...all.map(([id, slot]) => this.#close(id, slot.pooled)), ...this.#closing])
  }

  #close(id: string, p: Promise<PooledProducer<K, V>>): Promise<void> {
    const closing = this.#disconnect(id, p)
    this.#closing.add(closing)
    const done = () => void this.#closing.delete(closing)
    closing.then(done, done)
    return closing
  }

  async #disconnect(id: string, p: Promise<PooledProducer<K, V>>): Promise<void> {
    let x: PooledProducer<K, V>
    try {
      x = await p
    } catch {
      // A producer that never connected has nothing to close (its metrics were retired when connect failed).
      return
    }
    try {
      if (this.#connected.get(id) === x) this.#connected.delete(id)
      this.#closedRetries += x.producer.metrics().retries
      await x.producer.disconnect()
    } catch {
      // A producer whose connection is gone has nothing left to close.
    } finally {
      for (const m of metricsSourcesOf(x.producer)) if (m instanceof ProducerMetricSet) this.metrics.retire(m)
    }
  }
}
