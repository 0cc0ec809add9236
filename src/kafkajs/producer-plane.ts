/**
 * The control plane a kafkatune producer borrows from kafkajs: one `Cluster` (connections, metadata,
 * auth), kafkajs's idempotence/transaction manager for InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn/TxnOffsetCommit and EndTxn, and the brokers that kafkatune's own Produce requests go
 * through. Nothing here changes kafkajs: a plain kafkajs client in the same process is unaffected.
 */
import type { Kafka } from 'kafkajs'
import type { ProduceRequest } from '../protocol/produce.js'
import type { KafkajsCluster, KafkajsEosManager } from './internals.js'
import { createCluster, createEosManager, findBroker } from './internals.js'
import type { ProduceResult } from './produce.js'
import { produceThrottleObservers, sendProduce } from './produce.js'

export interface ProducerPlaneOptions {
  /** Idempotent or transactional: a producer id is needed. */
  idempotent: boolean
  transactionalId: string | null
  transactionTimeoutMs: number
  /** How long AddPartitionsToTxn keeps retrying transient answers (CONCURRENT_TRANSACTIONS right after a commit). */
  addPartitionsDeadlineMs: number
}

/** AddPartitionsToTxn answers that mean "ask again shortly" (the Java client's TransactionManager retries them). */
const TRANSIENT_ADD_PARTITIONS = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'])

/** Back-off between AddPartitionsToTxn attempts on a transient answer (the Java client's fixed 20 ms). */
const ADD_PARTITIONS_BACKOFF_MS = 20

/** kafkajs's control plane for one kafkatune producer (see the file comment). */
export class ProducerPlane {
  private readonly cluster: KafkajsCluster
  private eos: KafkajsEosManager | null = null

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ProducerPlaneOptions,
  ) {
    this.cluster = createCluster(kafka, { allowAutoTopicCreation: true, maxInFlightRequests: null })
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
    const eos = createEosManager(this.kafka, this.cluster, {
      transactional: this.transactional,
      transactionalId: this.options.transactionalId ?? undefined,
      transactionTimeout: this.options.transactionTimeoutMs,
    })
    this.eos = null
    await eos.initProducerId()
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
  }

  beginTransaction(): void {
    this.requireEos().beginTransaction()
  }

  get inTransaction(): boolean {
    return this.eos?.isInTransaction() ?? false
  }

  /** Adds partitions to the open transaction (no request for those already in it). */
  async addPartitionsToTransaction(partitions: readonly { topic: string; partition: number }[]): Promise<void> {
    const eos = this.requireEos()
    const byTopic = new Map<string, { partition: number }[]>()
    for (const p of partitions) {
      let list = byTopic.get(p.topic)
      if (list === undefined) byTopic.set(p.topic, (list = []))
      list.push({ partition: p.partition })
    }
    const topicData = [...byTopic].map(([topic, parts]) => ({ topic, partitions: parts }))
    const deadline = Date.now() + this.options.addPartitionsDeadlineMs
    for (;;) {
      try {
        await eos.addPartitionsToTransaction(topicData)
        return
      } catch (err) {
        const type = (err as { type?: unknown }).type
        if (typeof type !== 'string' || !TRANSIENT_ADD_PARTITIONS.has(type) || Date.now() >= deadline) throw err
        await new Promise((r) => setTimeout(r, ADD_PARTITIONS_BACKOFF_MS))
      }
    }
  }

  async sendOffsets(consumerGroupId: string, topics: { topic: string; partitions: { partition: number; offset: string }[] }[]): Promise<void> {
    await this.requireEos().sendOffsets({ consumerGroupId, topics })
  }

  async commit(): Promise<void> {
    await this.requireEos().commit()
  }

  async abort(): Promise<void> {
    await this.requireEos().abort()
  }

  /** Sends kafkatune's Produce request to broker `nodeId` through kafkajs's connection to it. */
  async produce(nodeId: number, request: ProduceRequest): Promise<ProduceResult[]> {
    const broker = await findBroker(this.cluster, nodeId)
    return await sendProduce(broker, request, produceThrottleObservers(this.kafka))
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
