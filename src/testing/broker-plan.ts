/**
 * The broker plan: the KRaft settings of one harness node, in one ordered map, for both modes. Local mode writes
 * it as server.properties ({@link serverPropertiesText}); container mode hands it to the image as `KAFKA_*`
 * variables ({@link containerEnvironment}), which the image's `kafka.docker.KafkaDockerWrapper` turns back into
 * server.properties. Pure: no I/O, no randomness (the cluster id and ports come in as arguments).
 */
import { ConfigError } from '../errors.js'
import { brokerConfigVariable, checkBrokerConfig } from './broker-config.js'
import { secureListenerSpecs, secureListenerProperties } from './security.js'
import type { SecurityPlan } from './security.js'

/** Ports inside a container: fixed, since each node has its own network namespace. `secure`: the first secured listener's, the next ones follow. */
export const CONTAINER_PORTS = { client: 9092, controller: 9093, broker: 9094, secure: 9095 } as const
/** Where a container keeps its log segments (the image's writable scratch space). */
export const CONTAINER_LOG_DIR = '/tmp/kraft-combined-logs'

/** Host ports of one local node: its PLAINTEXT and CONTROLLER listeners, then one per secured listener. */
export interface LocalNodePorts {
  plaintext: number
  controller: number
  /** One per secured listener, in the security plan's order. */
  secure: readonly number[]
}

/** One container node: its name on the cluster network and the host ports its client listeners are published on. */
export interface ContainerNodeAddress {
  name: string
  hostPort: number
  /** One per secured listener, in the security plan's order (container port `CONTAINER_PORTS.secure + i`). */
  secure?: readonly number[]
}

/**
 * Where the nodes listen. `local`: every listener on `host`, quorum and inter-broker traffic over PLAINTEXT.
 * `container`: clients reach PLAINTEXT through the published port on `advertisedHost`; nodes talk to each other
 * over BROKER and CONTROLLER by container name.
 */
export type PlanNetwork =
  | { kind: 'local'; host: string; nodes: readonly LocalNodePorts[] }
  | { kind: 'container'; advertisedHost: string; nodes: readonly ContainerNodeAddress[] }

/** What one node's settings depend on. */
export interface BrokerPlanInput {
  /** 1 or 3 nodes (3: replication factor 3, min.insync.replicas 2). */
  nodeCount: 1 | 3
  /** 1-based; node `n` is `network.nodes[n - 1]`. */
  nodeId: number
  /** The KRaft cluster id the storage is formatted with. */
  clusterId: string
  network: PlanNetwork
  /** The node's data folder; container mode always uses {@link CONTAINER_LOG_DIR}. */
  logDir?: string
  /** Secured client listeners, beside PLAINTEXT (key store paths as the broker sees them). */
  security?: SecurityPlan
  /** The user's `startKafka({ brokerConfig })`, applied last; harness-owned keys are refused. */
  brokerConfig?: Readonly<Record<string, string | number | boolean>>
}

/** The settings of one node, in the order they are written. */
export interface BrokerPlan {
  readonly nodeId: number
  readonly clusterId: string
  readonly properties: ReadonlyMap<string, string>
}

interface Listener {
  name: string
  protocol: string
  bind: string
  /** Unset for listeners clients are never told about (CONTROLLER). */
  advertise?: string
}

function nodeAt<T>(nodes: readonly T[], nodeId: number): T {
  const node = nodes[nodeId - 1]
  if (node === undefined) throw new RangeError(`broker plan: no node ${nodeId} among ${nodes.length}`)
  return node
}

function listenersOf(input: BrokerPlanInput): { listeners: Listener[]; voters: string; interBroker: string } {
  const { network, nodeId } = input
  if (network.kind === 'local') {
    const { host } = network
    const me = nodeAt(network.nodes, nodeId)
    const listeners: Listener[] = [
      { name: 'PLAINTEXT', protocol: 'PLAINTEXT', bind: `${host}:${me.plaintext}`, advertise: `${host}:${me.plaintext}` },
      { name: 'CONTROLLER', protocol: 'PLAINTEXT', bind: `${host}:${me.controller}` },
    ]
    const secure = input.security === undefined ? [] : secureListenerSpecs(input.security)
    secure.forEach(({ name, protocol }, i) => {
      const address = `${host}:${me.secure[i] ?? 0}`
      listeners.push({ name, protocol, bind: address, advertise: address })
    })
    const voters = network.nodes.map((n, i) => `${i + 1}@${host}:${n.controller}`).join(',')
    return { listeners, voters, interBroker: 'PLAINTEXT' }
  }
  const me = nodeAt(network.nodes, nodeId)
  const { client, controller, broker } = CONTAINER_PORTS
  const listeners: Listener[] = [
    { name: 'PLAINTEXT', protocol: 'PLAINTEXT', bind: `0.0.0.0:${client}`, advertise: `${network.advertisedHost}:${me.hostPort}` },
    { name: 'CONTROLLER', protocol: 'PLAINTEXT', bind: `0.0.0.0:${controller}` },
    { name: 'BROKER', protocol: 'PLAINTEXT', bind: `0.0.0.0:${broker}`, advertise: `${me.name}:${broker}` },
  ]
  const secure = input.security === undefined ? [] : secureListenerSpecs(input.security)
  secure.forEach(({ name, protocol }, i) => {
    const hostPort = me.secure?.[i]
    if (hostPort === undefined) throw new RangeError(`broker plan: node ${nodeId} has no host port for secured listener ${name}`)
    listeners.push({ name, protocol, bind: `0.0.0.0:${CONTAINER_PORTS.secure + i}`, advertise: `${network.advertisedHost}:${hostPort}` })
  })
  const voters = network.nodes.map((n, i) => `${i + 1}@${n.name}:${controller}`).join(',')
  return { listeners, voters, interBroker: 'BROKER' }
}

/** The KRaft settings of node `input.nodeId`: identity, listeners and quorum, test-broker tuning, then `brokerConfig`. */
export function brokerPlan(input: BrokerPlanInput): BrokerPlan {
  const brokerConfig = checkBrokerConfig(input.brokerConfig)
  if (input.network.nodes.length !== input.nodeCount) {
    throw new RangeError(`broker plan: ${input.network.nodes.length} node addresses for ${input.nodeCount} nodes`)
  }
  const { listeners, voters, interBroker } = listenersOf(input)
  const three = input.nodeCount === 3
  const rf = three ? '3' : '1'
  const minIsr = three ? '2' : '1'
  const logDir = input.network.kind === 'container' ? CONTAINER_LOG_DIR : input.logDir
  if (logDir === undefined || logDir === '') throw new RangeError('broker plan: a local node needs logDir')
  const props = new Map<string, string>([
    // Identity, listeners, quorum, storage: the harness owns these (broker-config.ts refuses them in brokerConfig).
    ['process.roles', 'broker,controller'],
    ['node.id', String(input.nodeId)],
    ['controller.quorum.voters', voters],
    ['listeners', listeners.map((l) => `${l.name}://${l.bind}`).join(',')],
    ['advertised.listeners', listeners.flatMap((l) => (l.advertise === undefined ? [] : [`${l.name}://${l.advertise}`])).join(',')],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', interBroker],
    ['listener.security.protocol.map', listeners.map((l) => `${l.name}:${l.protocol}`).join(',')],
    ['log.dirs', logDir],
    ['auto.create.topics.enable', 'true'],
    ['num.partitions', '1'],
    ['default.replication.factor', rf],
    ['min.insync.replicas', minIsr],
    // One partition per internal topic: the first group join / transaction is quick on a test broker.
    ['offsets.topic.replication.factor', rf],
    ['offsets.topic.num.partitions', '1'],
    ['transaction.state.log.replication.factor', rf],
    ['transaction.state.log.min.isr', minIsr],
    ['transaction.state.log.num.partitions', '1'],
    ['share.coordinator.state.topic.replication.factor', rf],
    ['share.coordinator.state.topic.min.isr', minIsr],
    ['share.coordinator.state.topic.num.partitions', '1'],
    ['group.initial.rebalance.delay.ms', '0'],
    // Fewer threads: several brokers share two cores.
    ['num.network.threads', '2'],
    ['num.io.threads', '2'],
    ['num.recovery.threads.per.data.dir', '1'],
    ['background.threads', '2'],
    ['log.cleaner.threads', '1'],
  ])
  if (input.security !== undefined) {
    for (const [k, v] of Object.entries(secureListenerProperties(input.security))) props.set(k, v)
  }
  // Otherwise a node can wait minutes for shutdown approval from a controller quorum that is gone.
  if (three) props.set('controlled.shutdown.enable', 'false')
  for (const [k, v] of Object.entries(brokerConfig)) props.set(k, v)
  return { nodeId: input.nodeId, clusterId: input.clusterId, properties: props }
}

/** The plan as a server.properties file (local mode). */
export function serverPropertiesText(plan: BrokerPlan): string {
  let text = ''
  for (const [k, v] of plan.properties) text += `${k}=${v}\n`
  return text
}

/**
 * Variables `KafkaDockerWrapper` keeps for itself (JVM and logging options) instead of turning them into
 * properties: a property whose variable would be one of these cannot reach the broker.
 */
const WRAPPER_RESERVED = new Set([
  'KAFKA_VERSION',
  'KAFKA_HEAP_OPTS',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_OPTS',
  'KAFKA_JMX_OPTS',
  'KAFKA_JVM_PERFORMANCE_OPTS',
  'KAFKA_GC_LOG_OPTS',
  'KAFKA_LOG4J_ROOT_LOGLEVEL',
  'KAFKA_LOG4J_LOGGERS',
  'KAFKA_TOOLS_LOG4J_LOGLEVEL',
  'KAFKA_JMX_HOSTNAME',
])

/**
 * The plan as the environment of an `apache/kafka`-style image (container mode): `CLUSTER_ID` and one `KAFKA_*`
 * variable per property. Every setting is passed, so the image's own defaults never apply. `addScram`: the
 * `kafka-storage format --add-scram` values, one per line in `KAFKATUNE_ADD_SCRAM` (read by kafkatune's image,
 * container/run, which formats the storage with them on the first start).
 */
export function containerEnvironment(plan: BrokerPlan, addScram: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = { CLUSTER_ID: plan.clusterId }
  if (addScram.length > 0) env.KAFKATUNE_ADD_SCRAM = addScram.join('\n')
  for (const [name, value] of plan.properties) {
    const variable = brokerConfigVariable(name)
    if (WRAPPER_RESERVED.has(variable)) {
      throw new ConfigError([{ option: `brokerConfig['${name}']`, message: `cannot be set in container mode: the image reads ${variable} as a JVM option` }], 'startKafka() brokerConfig')
    }
    env[variable] = value
  }
  return env
}
