import type { Admin as KafkajsAdmin } from 'kafkajs'
import { createKafkaClient, guardConnect } from '../client.js'
import { getDefaultLogger, resolvePreset } from '../config/index.js'
import type { ConnectionOptions, PresetRef, ResolvedConnection } from '../config/index.js'
import type { ConfigProblem } from '../errors.js'
import { ConfigError, KafkatuneError } from '../errors.js'
import { TRANSIENT_TXN_TYPES, inspectKafkajsError, kafkaError } from '../kafkajs/errors.js'
import { backoffMs } from '../util/backoff.js'
import { sleep } from '../util/async.js'

/** What `ensureTopic` takes; explicit values win over the preset's topic tuning. */
export interface EnsureTopicOptions {
  name: string
  /** @default the preset's, else 1 */
  partitions?: number
  /** @default the preset's, else the broker's default.replication.factor */
  replicationFactor?: number
  /** Topic configs by their Kafka names, e.g. `{ 'retention.ms': '86400000' }`; merged over the preset's. */
  config?: Record<string, string>
  /** Applies the preset's `topic` tuning (partitions, replication factor, configs such as `min.insync.replicas`). */
  preset?: PresetRef
}

/** Partitions, leaders and configs of one topic. */
export interface TopicDescription {
  name: string
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[]
  config: Record<string, string>
}

/** How far a group is behind on one topic. */
export interface TopicLag {
  groupId: string
  topic: string
  /** Sum over partitions. */
  total: number
  partitions: { partition: number; committed: string | null; low: string; high: string; lag: number }[]
}

/** The brokers of a cluster and its controller. */
export interface ClusterDescription {
  clusterId: string
  controller: number | null
  brokers: { nodeId: number; host: string; port: number }[]
}

/** A consumer group's state and members (as the group coordinator reports them). */
export interface GroupDescription {
  groupId: string
  /** `Stable`, `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Dead` (no such group) or `Unknown`. */
  state: string
  protocol: string
  members: { memberId: string; clientId: string; clientHost: string }[]
}

/** Topic and group administration; see `createAdmin`. */
export interface Admin {
  connect(): Promise<void>
  /** Creates the topic when missing (grows its partition count when asked for more); returns whether it was created. */
  ensureTopic(options: EnsureTopicOptions): Promise<{ created: boolean }>
  describeTopic(name: string): Promise<TopicDescription>
  /** Committed offset vs high watermark per partition; a partition without a commit counts from its low watermark. */
  lag(options: { groupId: string; topic: string }): Promise<TopicLag>
  /** Deletes a topic (a no-op when it does not exist). */
  deleteTopic(name: string): Promise<void>
  /** Names of the topics in the cluster, internal ones (`__consumer_offsets`, ...) included. */
  listTopics(): Promise<string[]>
  /** Cluster id, controller and brokers. */
  describeCluster(): Promise<ClusterDescription>
  /** The effective settings of one broker (server.properties and defaults), by Kafka name. */
  describeBroker(nodeId: number): Promise<Record<string, string>>
  describeGroup(groupId: string): Promise<GroupDescription>
  disconnect(): Promise<void>
}

/** Kafka's rule for topic names (`Topic.validate` in the Java code base). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/** What the broker would refuse in `ensureTopic` options, found before a request is sent, with the option named. */
function topicProblems(o: EnsureTopicOptions): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (typeof o !== 'object' || o === null) return [{ option: '(options)', message: 'ensureTopic needs an options object with at least `name`' }]
  if (typeof o.name !== 'string' || !TOPIC_NAME.test(o.name) || o.name === '.' || o.name === '..') {
    problems.push({ option: 'name', message: `${o.name === undefined ? 'required' : `'${String(o.name)}' is not a topic name`}: 1-249 characters of ASCII letters, digits, '.', '_' and '-' (not '.' or '..')` })
  }
  if (o.partitions !== undefined && !(Number.isInteger(o.partitions) && o.partitions >= 1)) problems.push({ option: 'partitions', message: `must be an integer >= 1, got ${String(o.partitions)}` })
  if (o.replicationFactor !== undefined && !(Number.isInteger(o.replicationFactor) && (o.replicationFactor >= 1 || o.replicationFactor === -1))) {
    problems.push({ option: 'replicationFactor', message: `must be an integer >= 1 (or -1 for the broker's default.replication.factor), got ${String(o.replicationFactor)}` })
  }
  if (o.config !== undefined) {
    if (typeof o.config !== 'object' || o.config === null) problems.push({ option: 'config', message: "must be an object of topic configs by their Kafka names, e.g. { 'retention.ms': '86400000' }" })
    else for (const [k, v] of Object.entries(o.config)) if (typeof v !== 'string') problems.push({ option: `config.${k}`, message: `topic config values are strings, got ${typeof v}` })
  }
  return problems
}

function resolveConnection(options: ConnectionOptions): ResolvedConnection {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new ConfigError([{ option: 'brokers', message: "expected at least one 'host:port'" }], 'admin configuration')
  }
  return {
    brokers: Object.freeze([...options.brokers]),
    clientId: options.clientId ?? 'kafkatune',
    ssl: options.ssl,
    sasl: options.sasl,
    logger: options.logger ?? getDefaultLogger(),
    kafkajs: options.kafkajs ?? {},
  }
}

const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn()
  } catch (err) {
    throw kafkaError(err, what)
  }
}

/**
 * A request to a group coordinator, tried again while the coordinator answers that it is loading or moving
 * (a fresh cluster loads `__consumer_offsets` for a while; kafkajs's admin does not retry these): up to 20
 * attempts, about 15 s, as a consumer waits for its start positions.
 */
async function toCoordinator<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      const type = inspectKafkajsError(err).type
      if (type === null || !TRANSIENT_TXN_TYPES.has(type) || attempt >= 20) throw err
      await sleep(backoffMs(attempt, { baseMs: 100, maxMs: 1000 }))
    }
  }
}

/**
 * Creates an admin client for topics and consumer-group lag.
 * @example
 * const admin = createAdmin({ brokers: ['127.0.0.1:9092'] })
 * await admin.ensureTopic({ name: 'orders', partitions: 6, replicationFactor: 3, preset: 'exactly-once' })
 */
export function createAdmin(options: ConnectionOptions): Admin {
  const settings = resolveConnection(options)
  const kafka = createKafkaClient(settings)
  const admin: KafkajsAdmin = kafka.admin()
  let connected: Promise<void> | null = null
  const ready = () =>
    (connected ??= guardConnect(kafka, () => admin.connect(), () => admin.disconnect()).catch((err: unknown) => {
      connected = null
      throw err
    }))

  return {
    connect: () => wrap('admin connect', ready),

    ensureTopic: (o) =>
      wrap(`ensureTopic ${String(o?.name)}`, async () => {
        const problems = topicProblems(o)
        const preset = typeof o === 'object' && o !== null ? resolvePreset(o.preset, problems) : null
        if (problems.length > 0) throw new ConfigError(problems, 'ensureTopic options')
        const partitions = o.partitions ?? preset?.topic?.partitions ?? 1
        const replicationFactor = o.replicationFactor ?? preset?.topic?.replicationFactor ?? -1
        const config = { ...(preset?.topic?.config ?? {}), ...(o.config ?? {}) }
        await ready()
        const existing = await admin.fetchTopicMetadata({ topics: [] })
        const found = existing.topics.find((t) => t.name === o.name)
        if (found !== undefined) {
          if (found.partitions.length < partitions) {
            await admin.createPartitions({ topicPartitions: [{ topic: o.name, count: partitions }] })
          }
          return { created: false }
        }
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: o.name,
              numPartitions: partitions,
              replicationFactor,
              configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
            },
          ],
        })
        return { created }
      }),

    describeTopic: (name) =>
      wrap(`describeTopic ${name}`, async () => {
        await ready()
        const meta = await admin.fetchTopicMetadata({ topics: [name] })
        const t = meta.topics[0]
        if (t === undefined) throw new KafkatuneError('UNKNOWN_TOPIC', `topic ${name} not found`, { retriable: false, details: { topic: name } })
        const configs = await admin.describeConfigs({ resources: [{ type: 2, name }], includeSynonyms: false })
        const entries = configs.resources[0]?.configEntries ?? []
        return {
          name,
          partitions: t.partitions
            .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }))
            .sort((a, b) => a.partition - b.partition),
          config: Object.fromEntries(entries.map((e) => [e.configName, e.configValue])),
        }
      }),

    lag: ({ groupId, topic }) =>
      wrap(`lag of ${groupId} on ${topic}`, async () => {
        await ready()
        const [committed, bounds] = await Promise.all([toCoordinator(() => admin.fetchOffsets({ groupId, topics: [topic] })), admin.fetchTopicOffsets(topic)])
        const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]))
        const partitions = bounds
          .map((b) => {
            const c = byPartition.get(b.partition)
            const has = c !== undefined && c !== '-1'
            const from = has ? BigInt(c) : BigInt(b.low)
            const lag = BigInt(b.high) - from
            return { partition: b.partition, committed: has ? c : null, low: b.low, high: b.high, lag: Number(lag < 0n ? 0n : lag) }
          })
          .sort((a, b) => a.partition - b.partition)
        return { groupId, topic, total: partitions.reduce((n, p) => n + p.lag, 0), partitions }
      }),

    deleteTopic: (name) =>
      wrap(`deleteTopic ${name}`, async () => {
        await ready()
        const existing = await admin.listTopics()
        if (existing.includes(name)) await admin.deleteTopics({ topics: [name], timeout: 10_000 })
      }),

    listTopics: () =>
      wrap('listTopics', async () => {
        await ready()
        return (await admin.listTopics()).sort()
      }),

    describeCluster: () =>
      wrap('describeCluster', async () => {
        await ready()
        const c = await admin.describeCluster()
        return {
          clusterId: c.clusterId,
          controller: c.controller ?? null,
          brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })).sort((a, b) => a.nodeId - b.nodeId),
        }
      }),

    describeBroker: (nodeId) =>
      wrap(`describeBroker ${nodeId}`, async () => {
        await ready()
        const res = await admin.describeConfigs({ resources: [{ type: 4, name: String(nodeId) }], includeSynonyms: false })
        return Object.fromEntries((res.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]))
      }),

    describeGroup: (groupId) =>
      wrap(`describeGroup ${groupId}`, async () => {
        await ready()
        const { groups } = await toCoordinator(() => admin.describeGroups([groupId]))
        const g = groups[0]
        if (g === undefined) return { groupId, state: 'Dead', protocol: '', members: [] }
        return {
          groupId,
          state: g.state,
          protocol: g.protocol,
          members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost })),
        }
      }),

    disconnect: async () => {
      if (connected !== null) await admin.disconnect()
      connected = null
    },
  }
}
