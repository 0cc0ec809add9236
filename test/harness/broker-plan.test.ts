/**
 * The broker plan (src/testing/broker-plan.ts) is pure: these tests need no broker. They live outside
 * test/testing/ because that folder runs in the integration project, which starts a shared broker first.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConfigError, isKafkatuneError } from '../../src/errors.js'
import { brokerConfigVariable, HARNESS_OWNED_PROPERTIES } from '../../src/testing/broker-config.js'
import { brokerPlan, CONTAINER_LOG_DIR, containerEnvironment, serverPropertiesText } from '../../src/testing/broker-plan.js'
import type { BrokerPlanInput, LocalNodePorts } from '../../src/testing/broker-plan.js'
import type { SecurityPlan } from '../../src/testing/security.js'

const HOST = '127.0.0.1'
const ONE: LocalNodePorts[] = [{ plaintext: 41001, controller: 41002, secure: [] }]
const THREE: LocalNodePorts[] = [
  { plaintext: 41001, controller: 41002, secure: [] },
  { plaintext: 42001, controller: 42002, secure: [] },
  { plaintext: 43001, controller: 43002, secure: [] },
]

function local(nodes: LocalNodePorts[], nodeId = 1, extra: Partial<BrokerPlanInput> = {}): BrokerPlanInput {
  return {
    nodeCount: nodes.length as 1 | 3,
    nodeId,
    clusterId: 'AAAAAAAAAAAAAAAAAAAAAA',
    network: { kind: 'local', host: HOST, nodes },
    logDir: `/scratch/node-${nodeId}/data`,
    ...extra,
  }
}

function props(input: BrokerPlanInput): Record<string, string> {
  return Object.fromEntries(brokerPlan(input).properties)
}

function rejection(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

const security: SecurityPlan = {
  listeners: ['sasl-ssl', 'mtls'],
  mechanisms: ['plain', 'scram-sha-512', 'oauthbearer'],
  keystore: '/scratch/broker.p12',
  truststore: '/scratch/ca.crt',
  storePassword: 'store-secret',
  ca: 'CA',
  clientCert: 'CERT',
  clientKey: 'KEY',
  plain: { username: 'kafkatune-plain', password: 'plain-secret' },
  scram: { username: 'kafkatune-scram', password: 'scram-secret' },
}

describe('brokerPlan: local nodes', () => {
  it('gives a single node its identity, listeners, quorum and single-replica internal topics', () => {
    const p = props(local(ONE))
    expect(p).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': `1@${HOST}:41002`,
      listeners: `PLAINTEXT://${HOST}:41001,CONTROLLER://${HOST}:41002`,
      'advertised.listeners': `PLAINTEXT://${HOST}:41001`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': '/scratch/node-1/data',
      'default.replication.factor': '1',
      'min.insync.replicas': '1',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
    })
    // Controlled shutdown only matters (and only hangs) with a quorum of several nodes.
    expect(p['controlled.shutdown.enable']).toBeUndefined()
  })

  it('gives every node of three the same quorum, its own listeners, and replication 3 / min ISR 2', () => {
    const all = [1, 2, 3].map((id) => props(local(THREE, id)))
    for (const [i, p] of all.entries()) {
      expect(p['node.id']).toBe(String(i + 1))
      expect(p['controller.quorum.voters']).toBe(`1@${HOST}:41002,2@${HOST}:42002,3@${HOST}:43002`)
      expect(p.listeners).toBe(`PLAINTEXT://${HOST}:${THREE[i]?.plaintext},CONTROLLER://${HOST}:${THREE[i]?.controller}`)
      expect(p['default.replication.factor']).toBe('3')
      expect(p['min.insync.replicas']).toBe('2')
      expect(p['transaction.state.log.replication.factor']).toBe('3')
      expect(p['share.coordinator.state.topic.min.isr']).toBe('2')
      expect(p['controlled.shutdown.enable']).toBe('false')
    }
  })

  it('writes server.properties one line per setting, in the plan order', () => {
    const plan = brokerPlan(local(ONE))
    const text = serverPropertiesText(plan)
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.trimEnd().split('\n')
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual([...plan.properties.keys()])
    expect(lines[0]).toBe('process.roles=broker,controller')
  })

  it('adds the secured listeners after PLAINTEXT and CONTROLLER, each with its key store or login modules', () => {
    const nodes: LocalNodePorts[] = [{ plaintext: 41001, controller: 41002, secure: [41003, 41004] }]
    const p = props(local(nodes, 1, { security }))
    expect(p.listeners).toBe(`PLAINTEXT://${HOST}:41001,CONTROLLER://${HOST}:41002,SASL_SSL://${HOST}:41003,MTLS://${HOST}:41004`)
    expect(p['advertised.listeners']).toBe(`PLAINTEXT://${HOST}:41001,SASL_SSL://${HOST}:41003,MTLS://${HOST}:41004`)
    expect(p['listener.security.protocol.map']).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL')
    // The quorum and brokers keep talking over PLAINTEXT on loopback.
    expect(p['inter.broker.listener.name']).toBe('PLAINTEXT')
    expect(p['listener.name.mtls.ssl.client.auth']).toBe('required')
    expect(p['listener.name.sasl_ssl.ssl.client.auth']).toBe('none')
    expect(p['listener.name.sasl_ssl.ssl.keystore.location']).toBe('/scratch/broker.p12')
    expect(p['listener.name.sasl_ssl.sasl.enabled.mechanisms']).toBe('PLAIN,SCRAM-SHA-512,OAUTHBEARER')
    expect(p['listener.name.sasl_ssl.plain.sasl.jaas.config']).toContain('user_kafkatune-plain="plain-secret"')
    expect(p['listener.name.mtls.sasl.enabled.mechanisms']).toBeUndefined()
  })
})

describe('brokerPlan: brokerConfig', () => {
  it('overrides a default in place and appends a new setting last', () => {
    const plan = brokerPlan(local(ONE, 1, { brokerConfig: { 'num.partitions': 6, 'log.retention.ms': 60_000, 'auto.create.topics.enable': false } }))
    const keys = [...plan.properties.keys()]
    const defaults = [...brokerPlan(local(ONE)).properties.keys()]
    expect(keys.slice(0, defaults.length)).toEqual(defaults)
    expect(keys.at(-1)).toBe('log.retention.ms')
    expect(plan.properties.get('num.partitions')).toBe('6')
    expect(plan.properties.get('auto.create.topics.enable')).toBe('false')
    expect(plan.properties.get('log.retention.ms')).toBe('60000')
  })

  it('refuses every harness-owned setting, all at once, with CONFIG_INVALID', () => {
    const owned = [...HARNESS_OWNED_PROPERTIES]
    const err = rejection(() => brokerPlan(local(ONE, 1, { brokerConfig: Object.fromEntries(owned.map((k) => [k, 'x'])) })))
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems.map((p) => p.option)).toEqual(owned.map((k) => `brokerConfig['${k}']`))
  })

  it('owns every identity, listener, quorum and storage setting it writes', () => {
    // The settings the plan derives from the node layout are exactly the ones brokerConfig may not touch.
    const p = props(local(THREE, 2))
    for (const key of ['process.roles', 'node.id', 'controller.quorum.voters', 'listeners', 'advertised.listeners', 'controller.listener.names', 'inter.broker.listener.name', 'listener.security.protocol.map', 'log.dirs']) {
      expect(p[key], key).toBeDefined()
      expect(HARNESS_OWNED_PROPERTIES.has(key), key).toBe(true)
    }
  })

  it('lets no user value change what the harness owns (property test)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(\.[a-z0-9]{1,6}){0,3}$/).filter((n) => !HARNESS_OWNED_PROPERTIES.has(n))
    fc.assert(
      fc.property(fc.dictionary(name, fc.oneof(fc.string({ maxLength: 8 }).filter((s) => !/[\r\n]/.test(s)), fc.integer(), fc.boolean())), (config) => {
        const base = props(local(THREE, 3))
        const p = props(local(THREE, 3, { brokerConfig: config }))
        for (const key of HARNESS_OWNED_PROPERTIES) expect(p[key]).toBe(base[key])
        for (const [k, v] of Object.entries(config)) expect(p[k]).toBe(String(v))
      }),
    )
  })
})

describe('brokerPlan: container nodes and their KAFKA_* variables', () => {
  const nodes = [1, 2, 3].map((i) => ({ name: `kafkatune-abcd-kafka-${i}`, hostPort: 50000 + i }))
  const input = (nodeId: number, extra: Partial<BrokerPlanInput> = {}): BrokerPlanInput => ({
    nodeCount: 3,
    nodeId,
    clusterId: 'BBBBBBBBBBBBBBBBBBBBBB',
    network: { kind: 'container', advertisedHost: HOST, nodes },
    ...extra,
  })

  it('advertises the published port to clients and container names between nodes', () => {
    const p = props(input(2))
    expect(p.listeners).toBe('PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093,BROKER://0.0.0.0:9094')
    expect(p['advertised.listeners']).toBe(`PLAINTEXT://${HOST}:50002,BROKER://kafkatune-abcd-kafka-2:9094`)
    expect(p['inter.broker.listener.name']).toBe('BROKER')
    expect(p['controller.quorum.voters']).toBe('1@kafkatune-abcd-kafka-1:9093,2@kafkatune-abcd-kafka-2:9093,3@kafkatune-abcd-kafka-3:9093')
    expect(p['log.dirs']).toBe(CONTAINER_LOG_DIR)
  })

  it('has the same tuning as a local node of the same size: the settings live once', () => {
    const owned = (k: string): boolean => HARNESS_OWNED_PROPERTIES.has(k)
    const strip = (p: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(p).filter(([k]) => !owned(k)))
    expect(strip(props(input(1)))).toEqual(strip(props(local(THREE, 1))))
  })

  it('turns every property into the variable the image wrapper maps back, plus CLUSTER_ID', () => {
    const plan = brokerPlan(input(3, { brokerConfig: { 'log.segment.bytes': 1048576, 'log.cleaner.min.compaction.lag.ms': 0 } }))
    const env = containerEnvironment(plan)
    expect(env.CLUSTER_ID).toBe('BBBBBBBBBBBBBBBBBBBBBB')
    expect(env.KAFKA_NODE_ID).toBe('3')
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller')
    expect(env.KAFKA_INTER_BROKER_LISTENER_NAME).toBe('BROKER')
    expect(env.KAFKA_CONTROLLED_SHUTDOWN_ENABLE).toBe('false')
    expect(env.KAFKA_LOG_SEGMENT_BYTES).toBe('1048576')
    expect(Object.keys(env)).toHaveLength(plan.properties.size + 1)
    // KafkaDockerWrapper: drop KAFKA_, lower case, '_' -> '.', '...' -> '-', '..' -> '_'.
    const unwrap = (v: string): string => v.slice('KAFKA_'.length).toLowerCase().replace(/_/g, '.').replace(/\.\.\./g, '-').replace(/\.\./g, '_')
    for (const [name, value] of plan.properties) expect(env[brokerConfigVariable(name)], name).toBe(value)
    for (const variable of Object.keys(env).filter((k) => k !== 'CLUSTER_ID')) expect(plan.properties.has(unwrap(variable)), variable).toBe(true)
  })

  it('refuses a brokerConfig name whose variable the image keeps as a JVM option', () => {
    const err = rejection(() => containerEnvironment(brokerPlan(input(1, { brokerConfig: { 'heap.opts': '-Xmx8g' } }))))
    expect(isKafkatuneError(err, 'CONFIG_INVALID')).toBe(true)
    expect((err as Error).message).toContain('KAFKA_HEAP_OPTS')
  })

  it('publishes each secured listener on its own host port; nodes keep talking over BROKER and CONTROLLER', () => {
    const secured = nodes.map((n, i) => ({ ...n, secure: [51000 + i, 52000 + i] }))
    const inContainer = { ...security, keystore: '/etc/kafka/secrets/broker.p12', truststore: '/etc/kafka/secrets/ca.crt' }
    const plan = brokerPlan(input(2, { network: { kind: 'container', advertisedHost: HOST, nodes: secured }, security: inContainer }))
    const p = Object.fromEntries(plan.properties)
    expect(p.listeners).toBe('PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093,BROKER://0.0.0.0:9094,SASL_SSL://0.0.0.0:9095,MTLS://0.0.0.0:9096')
    expect(p['advertised.listeners']).toBe(`PLAINTEXT://${HOST}:50002,BROKER://kafkatune-abcd-kafka-2:9094,SASL_SSL://${HOST}:51001,MTLS://${HOST}:52001`)
    expect(p['listener.security.protocol.map']).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,BROKER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL')
    expect(p['inter.broker.listener.name']).toBe('BROKER')
    expect(p['listener.name.mtls.ssl.keystore.location']).toBe('/etc/kafka/secrets/broker.p12')
    expect(p['listener.name.sasl_ssl.ssl.truststore.location']).toBe('/etc/kafka/secrets/ca.crt')
    const env = containerEnvironment(plan, ['SCRAM-SHA-512=[name=u,password=p]', 'SCRAM-SHA-256=[name=u,password=p]'])
    // '-' becomes '___' and '_' becomes '__' in the variable names, so the wrapper maps them back exactly.
    expect(env.KAFKA_LISTENER_NAME_SASL__SSL_SCRAM___SHA___512_SASL_JAAS_CONFIG).toBe(p['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'])
    expect(env.KAFKATUNE_ADD_SCRAM).toBe('SCRAM-SHA-512=[name=u,password=p]\nSCRAM-SHA-256=[name=u,password=p]')
    expect('KAFKATUNE_ADD_SCRAM' in containerEnvironment(plan)).toBe(false)
  })

  it('refuses a container node without host ports for the secured listeners', () => {
    expect(() => brokerPlan(input(1, { security }))).toThrow(RangeError)
  })
})
