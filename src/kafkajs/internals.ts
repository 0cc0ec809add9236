/**
 * The kafkajs 2.2.4 internals kafkatune's data plane builds on, reached in one place and checked when
 * first used: a `Cluster` built by the client's own factory (so brokers, TLS, SASL, retry, socket factory
 * and logger are the client's), the idempotence/transaction manager (`eosManager`), a broker's request
 * path, and kafkajs's protocol errors by code. kafkajs is pinned and no longer released, so these shapes
 * are frozen; a different layout fails fast with a clear error instead of misbehaving.
 */
import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import { KafkatuneError } from '../errors.js'

const requireFromHere = createRequire(import.meta.url)

/** A kafkajs request object, as `Connection.send` takes it. */
export interface KafkajsRequest {
  apiKey: number
  apiVersion: number
  apiName: string
  expectResponse?: () => boolean
  encode(): Promise<{ buf: Buffer; readonly buffer: Buffer }>
}

/** A kafkajs response parser. */
export interface KafkajsResponse<D, P> {
  decode(payload: Buffer): Promise<D>
  parse(decoded: D): Promise<P>
}

/** The parts of a kafkajs `Broker` the data plane uses. */
export interface KafkajsBroker {
  nodeId: number
  connectionPool: { send(protocolRequest: { request: KafkajsRequest; response: KafkajsResponse<unknown, unknown>; requestTimeout?: number }): Promise<unknown> }
}

/** The parts of a kafkajs `Cluster` the data plane uses. */
export interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  isConnected(): boolean
  findBroker(args: { nodeId: number }): Promise<KafkajsBroker>
  addTargetTopic(topic: string): Promise<void>
  refreshMetadata(): Promise<void>
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<KafkajsBroker>
}

/** kafkajs's idempotence/transaction manager (`src/producer/eosManager`). */
export interface KafkajsEosManager {
  getProducerId(): number | string
  getProducerEpoch(): number
  initProducerId(): Promise<void>
  isInitialized(): boolean
  isInTransaction(): boolean
  beginTransaction(): void
  addPartitionsToTransaction(topicData: { topic: string; partitions: { partition: number }[] }[]): Promise<void>
  sendOffsets(args: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}

interface ClusterOptions {
  metadataMaxAge?: number
  allowAutoTopicCreation?: boolean
  maxInFlightRequests?: number | null
  instrumentationEmitter?: unknown
}

type EosFactory = (args: { logger: unknown; cluster: KafkajsCluster; transactionTimeout: number; transactional: boolean; transactionalId?: string }) => KafkajsEosManager

function layoutError(what: string, cause?: unknown): KafkatuneError {
  return new KafkatuneError('KAFKA', `kafkajs internals are not the 2.2.4 layout kafkatune's data plane was written for (${what})`, { retriable: false, cause })
}

function privateSymbol(target: object, description: string): symbol {
  for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const found = Object.getOwnPropertySymbols(o).find((s) => s.description === description)
    if (found !== undefined) return found
  }
  throw layoutError(`no ${description}`)
}

let modules: { eos: EosFactory; Emitter: new () => unknown; errorFromCode: (code: number) => Error } | null = null

function kafkajsModules(): NonNullable<typeof modules> {
  if (modules !== null) return modules
  try {
    const eos = requireFromHere('kafkajs/src/producer/eosManager/index.js') as EosFactory
    const Emitter = requireFromHere('kafkajs/src/instrumentation/emitter.js') as new () => unknown
    const errorFromCode = (requireFromHere('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error }).createErrorFromCode
    if (typeof eos !== 'function' || typeof Emitter !== 'function' || typeof errorFromCode !== 'function') throw new Error('unexpected exports')
    modules = { eos, Emitter, errorFromCode }
    return modules
  } catch (err) {
    throw layoutError('eosManager, emitter or protocol/error did not load', err)
  }
}

/** A new kafkajs `Cluster` from the client's own factory (its brokers, TLS, SASL, retry and logger). */
export function createCluster(kafka: Kafka, options: ClusterOptions): KafkajsCluster {
  const factory = (kafka as unknown as Record<symbol, unknown>)[privateSymbol(kafka, 'private:Kafka:createCluster')]
  if (typeof factory !== 'function') throw layoutError('createCluster is not a function')
  const { Emitter } = kafkajsModules()
  return (factory as (o: ClusterOptions) => KafkajsCluster)({ instrumentationEmitter: new Emitter(), ...options })
}

/** kafkajs's coordinator type of a transaction coordinator (`protocol/coordinatorTypes.js`). */
const TRANSACTION_COORDINATOR = 1

/** Coordinators remembered between transaction requests (see `cachingTransactionCoordinator`). */
export interface TransactionCoordinatorCache {
  /** The cluster the eos manager is given: coordinator lookups are cached, the rest is the cluster's. */
  readonly cluster: KafkajsCluster
  /** Forgets every coordinator (after any failed transaction request: one may have moved). */
  forget(): void
  /**
   * Starts one `sendOffsets`: its first group coordinator lookup may use the cache; a second one in the same
   * call is kafkajs re-looking it up after NOT_COORDINATOR or a refused connection, so it asks the cluster.
   */
  beginOffsetsCommit(): void
}

/**
 * kafkajs's eos manager sends FindCoordinator before every AddPartitionsToTxn, EndTxn and AddOffsetsToTxn, and
 * for the group before every TxnOffsetCommit: two or three extra round trips per transaction. The Java client
 * looks a coordinator up once and again only after NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or a lost
 * connection. This facade does the same: it keeps the node ids and asks the cluster for that (connected)
 * broker, with no request on the wire.
 */
export function cachingTransactionCoordinator(cluster: KafkajsCluster): TransactionCoordinatorCache {
  const c = cluster as unknown as Record<string, unknown>
  for (const name of ['findGroupCoordinator', 'refreshMetadataIfNecessary', 'findControllerBroker', 'findBroker']) {
    if (typeof c[name] !== 'function') throw layoutError(`Cluster.${name} is not a function`)
  }
  const nodeIds = new Map<string, number>()
  let groupLookups = 0
  const cached = async (key: string, args: { groupId: string; coordinatorType?: number }, useCache: boolean): Promise<KafkajsBroker> => {
    const nodeId = nodeIds.get(key)
    if (useCache && nodeId !== undefined) {
      try {
        return await cluster.findBroker({ nodeId })
      } catch {
        nodeIds.delete(key)
      }
    }
    const broker = await cluster.findGroupCoordinator(args)
    nodeIds.set(key, broker.nodeId)
    return broker
  }
  const facade = {
    get retry(): unknown {
      return c.retry
    },
    refreshMetadataIfNecessary: () => (c.refreshMetadataIfNecessary as () => Promise<void>).call(cluster),
    findControllerBroker: () => (c.findControllerBroker as () => Promise<KafkajsBroker>).call(cluster),
    findGroupCoordinator: async (args: { groupId: string; coordinatorType?: number }): Promise<KafkajsBroker> => {
      if (args.coordinatorType === TRANSACTION_COORDINATOR) return await cached(`t:${args.groupId}`, args, true)
      return await cached(`g:${args.groupId}`, args, groupLookups++ === 0)
    },
  }
  return {
    cluster: facade as unknown as KafkajsCluster,
    forget: () => nodeIds.clear(),
    beginOffsetsCommit: () => {
      groupLookups = 0
    },
  }
}

/** A kafkajs idempotence/transaction manager over `cluster`. */
export function createEosManager(kafka: Kafka, cluster: KafkajsCluster, args: { transactional: boolean; transactionalId?: string; transactionTimeout: number }): KafkajsEosManager {
  return kafkajsModules().eos({ logger: kafka.logger().namespace('Producer'), cluster, ...args })
}

/** kafkajs's error for a protocol error code (a `KafkaJSProtocolError` with `type` and `retriable`). */
export function kafkajsErrorFromCode(code: number): Error {
  return kafkajsModules().errorFromCode(code)
}

/** The method's symbol per broker prototype: walking the prototype chain's symbols on every request showed up in profiles (1% of CPU). */
const sendRequestSymbols = new WeakMap<object, symbol>()

function sendRequestSymbol(broker: object): symbol {
  const proto = Object.getPrototypeOf(broker) as object | null
  if (proto === null) return privateSymbol(broker, 'private:Broker:sendRequest')
  let found = sendRequestSymbols.get(proto)
  if (found === undefined) {
    found = privateSymbol(broker, 'private:Broker:sendRequest')
    sendRequestSymbols.set(proto, found)
  }
  return found
}

/**
 * Sends a request through the broker's own request path (connection pool, authentication, correlation,
 * request queue); a closed connection disconnects the broker as kafkajs's own requests do.
 */
export async function sendThroughBroker<P>(broker: KafkajsBroker, request: KafkajsRequest, response: KafkajsResponse<unknown, P>): Promise<P | undefined> {
  const send = (broker as unknown as Record<symbol, unknown>)[sendRequestSymbol(broker)]
  if (typeof send !== 'function') throw layoutError('Broker sendRequest is not a function')
  return (await (send as (r: object) => Promise<unknown>).call(broker, { request, response })) as P | undefined
}

/**
 * The connected broker `nodeId`. A cluster that has not loaded metadata yet knows only its seed brokers:
 * kafkajs refreshes metadata when a broker is not found, so one more look finds it.
 */
export async function findBroker(cluster: KafkajsCluster, nodeId: number): Promise<KafkajsBroker> {
  try {
    return await cluster.findBroker({ nodeId })
  } catch (err) {
    if (err instanceof Error && err.name === 'KafkaJSBrokerNotFound') return await cluster.findBroker({ nodeId })
    throw err
  }
}
