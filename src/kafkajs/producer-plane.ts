/**
 * The control plane a kafkatune producer borrows from kafkajs: one `Cluster` (connections, metadata,
 * auth), kafkajs's idempotence/transaction manager for InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn/TxnOffsetCommit and EndTxn, and the brokers that kafkatune's own Produce requests go
 * through. Nothing here changes kafkajs: a plain kafkajs client in the same process is unaffected.
 */
import type { Kafka } from 'kafkajs'
import type { ProduceRequest } from '../protocol/produce.js'
import type { KafkajsCluster, KafkajsEosManager, TransactionCoordinatorCache } from './internals.js'
import { cachingTransactionCoordinator, createCluster, createEosManager, findBroker } from './internals.js'
import type { ProduceResult } from './produce.js'
import { produceThrottleObservers, sendProduce } from './produce.js'
import { sendDescribeProducers } from './describe-producers.js'
import type { DescribeProducersPartition } from '../protocol/describe-producers.js'

export interface ProducerPlaneOptions {
  /** Idempotent or transactional: a producer id is needed. */
  idempotent: boolean
  transactionalId: string | null
  transactionTimeoutMs: number
  /** How long AddPartitionsToTxn keeps retrying transient answers (CONCURRENT_TRANSACTIONS right after a commit). */
  addPartitionsDeadlineMs: number
  /**
   * Back-off between retries of a transaction request, except the first AddPartitionsToTxn's (see below).
   * @default 100
   */
  retryBackoffMs?: number
  /** Told each retried transaction request (metrics, debug log). */
  onRetry?: (retry: TransactionRetry) => void
}

/** One retry of a transaction control request after a transient answer. */
export interface TransactionRetry {
  request: 'AddPartitionsToTxn'
  kafkaError: string
  backoffMs: number
  /** No partition of this transaction had been added yet: the previous transaction is still completing. */
  firstInTransaction: boolean
}

/** AddPartitionsToTxn answers that mean "ask again shortly" (the Java client's TransactionManager retries them). */
const TRANSIENT_ADD_PARTITIONS = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'])

/**
 * Back-off after CONCURRENT_TRANSACTIONS on a transaction's first AddPartitionsToTxn: the coordinator is
 * still writing the previous transaction's markers, which takes a few ms. The Java client's
 * TransactionManager uses this fixed 20 ms in that one case (ADD_PARTITIONS_RETRY_BACKOFF_MS, whatever
 * retry.backoff.ms is) and retry.backoff.ms otherwise; kafkajs waits its 100 ms+ retry schedule.
 */
export const FIRST_ADD_PARTITIONS_BACKOFF_MS = 20

interface PartitionRef {
  topic: string
  partition: number
}

/** kafkajs's control plane for one kafkatune producer (see the file comment). */
export class ProducerPlane {
  private readonly cluster: KafkajsCluster
  private readonly coordinator: TransactionCoordinatorCache
  private eos: KafkajsEosManager | null = null
  /** Partitions the coordinator has added to the open transaction. */
  private added = new Map<string, Set<number>>()
  private addedCount = 0
  /** Partitions on their way into the transaction: the AddPartitionsToTxn request that carries each. */
  private adding = new Map<string, Promise<void>>()
  /** Partitions waiting for the next AddPartitionsToTxn (one request at a time, as the Java client sends them). */
  private queued: PartitionRef[] = []
  private queuedRequest: Promise<void> | null = null
  /** Transaction requests go out one after another; EndTxn waits for the AddPartitionsToTxn before it. */
  private chain: Promise<void> = Promise.resolve()

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ProducerPlaneOptions,
  ) {
    this.cluster = createCluster(kafka, { allowAutoTopicCreation: true, maxInFlightRequests: null })
    this.coordinator = cachingTransactionCoordinator(this.cluster)
  }

  get transactional(): boolean {
    return this.options.transactionalId !== null
  }

  async connect(): Promise<void> {
    await this.cluster.connect()
  }

  async disconnect(): Promise<void> {
    await this.cluster.disconnect()
  }

  /**
   * A fresh producer id and epoch (a new manager each time: after a failed commit or abort kafkajs's
   * state machine is stuck where it failed). Transactional ids keep their id and get the next epoch.
   */
  async initProducerId(): Promise<{ producerId: bigint; producerEpoch: number }> {
    const eos = createEosManager(this.kafka, this.coordinator.cluster, {
      transactional: this.transactional,
      transactionalId: this.options.transactionalId ?? undefined,
      transactionTimeout: this.options.transactionTimeoutMs,
    })
    this.eos = null
    this.clearTransaction()
    await this.coordinated(eos.initProducerId())
    this.eos = eos
    return { producerId: BigInt(eos.getProducerId()), producerEpoch: eos.getProducerEpoch() }
  }

  /** True once a producer id was obtained (and not discarded since). */
  get initialized(): boolean {
    return this.eos !== null
  }

  /** Forgets the producer id (the next transaction or reset asks for a new epoch). */
  discardProducerId(): void {
    this.eos = null
    this.clearTransaction()
  }

  beginTransaction(): void {
    this.requireEos().beginTransaction()
    this.clearTransaction()
  }

  get inTransaction(): boolean {
    return this.eos?.isInTransaction() ?? false
  }

  /**
   * Makes sure each partition is in the open transaction: null when all of them already are (no await),
   * else a promise of the AddPartitionsToTxn requests that add them. A partition is asked for once per
   * transaction, however many produce requests carry it; callers may ask early (when the first record of
   * a partition is appended, as the Java client does) so the request overlaps the linger.
   */
  addPartitionsToTransaction(partitions: readonly PartitionRef[]): Promise<void> | null {
    let waits: Promise<void>[] | null = null
    for (const p of partitions) {
      const request = this.addPartition(p.topic, p.partition)
      if (request === null) continue
      if (waits === null) waits = [request]
      else if (!waits.includes(request)) waits.push(request)
    }
    if (waits === null) return null
    return waits.length === 1 ? (waits[0] as Promise<void>) : Promise.all(waits).then(() => undefined)
  }

  /** One partition of `addPartitionsToTransaction` (no allocation when it is already in the transaction). */
  addPartition(topic: string, partition: number): Promise<void> | null {
    if (this.added.get(topic)?.has(partition) === true) return null
    const key = `${topic}\u0000${partition}`
    let request = this.adding.get(key)
    if (request === undefined) {
      request = this.enqueueAdd({ topic, partition })
      this.adding.set(key, request)
    }
    return request
  }

  private enqueueAdd(p: PartitionRef): Promise<void> {
    this.queued.push(p)
    if (this.queuedRequest !== null) return this.queuedRequest
    const eos = this.requireEos()
    const request = this.chain.then(() => {
      const group = this.queued
      this.queued = []
      this.queuedRequest = null
      return this.sendAddPartitions(eos, group)
    })
    this.queuedRequest = request
    this.chain = request.catch(() => undefined)
    return request
  }

  private async sendAddPartitions(eos: KafkajsEosManager, group: readonly PartitionRef[]): Promise<void> {
    const byTopic = new Map<string, { partition: number }[]>()
    for (const p of group) {
      let list = byTopic.get(p.topic)
      if (list === undefined) byTopic.set(p.topic, (list = []))
      list.push({ partition: p.partition })
    }
    const topicData = [...byTopic].map(([topic, parts]) => ({ topic, partitions: parts }))
    const deadline = Date.now() + this.options.addPartitionsDeadlineMs
    const adding = this.adding
    const added = this.added
    try {
      for (;;) {
        try {
          await eos.addPartitionsToTransaction(topicData)
          break
        } catch (err) {
          const type = (err as { type?: unknown }).type
          if (typeof type !== 'string' || !TRANSIENT_ADD_PARTITIONS.has(type) || Date.now() >= deadline || this.eos !== eos || !eos.isInTransaction()) {
            this.coordinator.forget()
            throw err
          }
          const firstInTransaction = this.addedCount === 0
          const backoffMs = type === 'CONCURRENT_TRANSACTIONS' && firstInTransaction ? FIRST_ADD_PARTITIONS_BACKOFF_MS : (this.options.retryBackoffMs ?? 100)
          if (type !== 'CONCURRENT_TRANSACTIONS') this.coordinator.forget()
          this.options.onRetry?.({ request: 'AddPartitionsToTxn', kafkaError: type, backoffMs, firstInTransaction })
          await new Promise((r) => setTimeout(r, backoffMs))
        }
      }
    } finally {
      for (const p of group) adding.delete(`${p.topic}\u0000${p.partition}`)
    }
    if (this.eos !== eos || added !== this.added) return
    for (const p of group) {
      let set = added.get(p.topic)
      if (set === undefined) added.set(p.topic, (set = new Set()))
      if (!set.has(p.partition)) {
        set.add(p.partition)
        this.addedCount++
      }
    }
  }

  async sendOffsets(consumerGroupId: string, topics: { topic: string; partitions: { partition: number; offset: string }[] }[]): Promise<void> {
    const eos = this.requireEos()
    await this.chain
    this.coordinator.beginOffsetsCommit()
    await this.coordinated(eos.sendOffsets({ consumerGroupId, topics }))
  }

  async commit(): Promise<void> {
    const eos = this.requireEos()
    await this.chain
    try {
      await this.coordinated(eos.commit())
    } finally {
      this.clearTransaction()
    }
  }

  async abort(): Promise<void> {
    const eos = this.requireEos()
    await this.chain
    try {
      await this.coordinated(eos.abort())
    } finally {
      this.clearTransaction()
    }
  }

  /** A failed transaction request may mean the coordinator moved: look it up again next time. */
  private async coordinated<T>(request: Promise<T>): Promise<T> {
    try {
      return await request
    } catch (err) {
      this.coordinator.forget()
      throw err
    }
  }

  private clearTransaction(): void {
    this.added = new Map()
    this.addedCount = 0
    this.adding = new Map()
    this.queued = []
    this.queuedRequest = null
  }

  /** Sends kafkatune's Produce request to broker `nodeId` through kafkajs's connection to it. */
  async produce(nodeId: number, request: ProduceRequest): Promise<ProduceResult[]> {
    const broker = await findBroker(this.cluster, nodeId)
    return await sendProduce(broker, request, produceThrottleObservers(this.kafka))
  }

  /** The producers broker `nodeId` holds state for on `topic`[`partition`] (DescribeProducers). */
  async describeProducers(nodeId: number, topic: string, partition: number): Promise<DescribeProducersPartition[]> {
    const broker = await findBroker(this.cluster, nodeId)
    return await sendDescribeProducers(broker, [{ topic, partitions: [partition] }])
  }

  /** Asks for `topic` in metadata with auto-creation allowed (as the Java client's metadata request does). */
  async requestTopic(topic: string): Promise<void> {
    await this.cluster.addTargetTopic(topic)
  }

  private requireEos(): KafkajsEosManager {
    if (this.eos === null) throw new Error('no producer id: initProducerId() first')
    return this.eos
  }
}
