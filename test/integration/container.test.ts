/**
 * Container mode of kafkatune/testing against a real runtime (Docker, or Podman via scripts/podman-setup.sh):
 * a single node with a plain kafkajs round trip, and a 3-node cluster with one test per fault kind.
 * In CI (or with KAFKATUNE_REQUIRE_CONTAINERS=1) a missing runtime is a failure, not a skip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getContainerRuntimeClient } from 'testcontainers'
import { Kafka, logLevel } from 'kafkajs'
import type { Admin } from 'kafkajs'
import { isKafkatuneError } from '../../src/errors.js'
import { containerRuntimeAvailable, startContainerKafka } from '../../src/testing/container.js'
import type { KafkaHandle, NodeControl } from '../../src/testing/types.js'
import { brokerSettings, uniqueName, waitFor } from '../helpers/kafka.js'

const required = (process.env.CI ?? '') !== '' || process.env.KAFKATUNE_REQUIRE_CONTAINERS === '1'
const available = await containerRuntimeAvailable()
const HOW_TO =
  'No container runtime answered. Start Docker, or on Debian run `source scripts/podman-setup.sh` (installs Podman, serves its Docker API and exports DOCKER_HOST), ' +
  'then `export KAFKATUNE_KAFKA_IMAGE=$(scripts/build-kafka-image.sh)` when no registry is reachable.'
if (!available && !required) {
  console.warn(`[container.test] container tests not run: ${HOW_TO} (set KAFKATUNE_REQUIRE_CONTAINERS=1 to make this a failure)`)
}

function client(brokers: string[], extra: { requestTimeout?: number; connectionTimeout?: number; retries?: number } = {}): Kafka {
  return new Kafka({
    clientId: uniqueName('ct'),
    brokers,
    logLevel: logLevel.NOTHING,
    requestTimeout: extra.requestTimeout ?? 30_000,
    connectionTimeout: extra.connectionTimeout ?? 3_000,
    // Enough retries to outlast a dead node's fencing (broker.session.timeout.ms, 9 s by default).
    retry: { retries: extra.retries ?? 10, initialRetryTime: 300, maxRetryTime: 3_000 },
  })
}

/**
 * True when the broker at `address` itself answers within ~2 s: connecting an admin client talks only to its seed
 * broker (ApiVersions, Metadata); later admin calls could be routed to any broker of the cluster.
 */
async function answers(address: string): Promise<boolean> {
  const admin = client([address], { requestTimeout: 2_000, connectionTimeout: 1_500, retries: 0 }).admin()
  try {
    await admin.connect()
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** The handle's containers (by published port) and their networks, as the runtime lists them. */
async function runtimeObjects(kafka: KafkaHandle): Promise<{ containers: string[]; networks: string[] }> {
  const docker = (await getContainerRuntimeClient()).container.dockerode
  const ports = new Set(kafka.brokers.map((b) => Number(b.split(':').pop())))
  const all = await docker.listContainers({ all: true, filters: { label: ['dev.kafkatune.managed=true'] } })
  const mine = all.filter((c) => c.Ports.some((p) => ports.has(p.PublicPort)))
  return {
    containers: mine.map((c) => c.Id),
    // Testcontainers attaches aliased containers to the default network too; the cluster network is kafkatune's own.
    networks: [...new Set(mine.flatMap((c) => Object.keys(c.NetworkSettings?.Networks ?? {})))].filter((n) => n.startsWith('kafkatune-')),
  }
}

describe.runIf(available || required)('container runtime', () => {
  it('answers (required in CI)', () => {
    expect(available, HOW_TO).toBe(true)
  })
})

describe.runIf(available)('container mode, single node', () => {
  let kafka: KafkaHandle

  beforeAll(async () => {
    // brokerConfig reaches the broker as KAFKA_* variables.
    kafka = await startContainerKafka({ nodes: 1, brokerConfig: { 'log.retention.ms': 123_456_789, 'message.max.bytes': 2_000_000 } })
  })
  afterAll(async () => {
    await kafka?.stop()
  })

  it('applies brokerConfig', async () => {
    expect(await brokerSettings(kafka.brokers, 1, ['log.retention.ms', 'message.max.bytes'])).toEqual({
      'log.retention.ms': '123456789',
      'message.max.bytes': '2000000',
    })
  })

  it('produces, consumes with a group commit, and commits a transaction', async () => {
    expect(kafka.mode).toBe('container')
    expect(kafka.brokers).toHaveLength(1)
    expect(kafka.nodes.map((n) => n.nodeId)).toEqual([1])

    const kc = client(kafka.brokers)
    const topic = uniqueName('ct-single')
    const groupId = uniqueName('ct-group')
    const admin = kc.admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })

      const producer = kc.producer({ idempotent: true })
      await producer.connect()
      const values = Array.from({ length: 200 }, (_, i) => `v${i}`)
      await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `k${i % 7}`, value })) })
      await producer.disconnect()

      const seen: string[] = []
      const consumer = kc.consumer({ groupId })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? '') })
      await waitFor(() => seen.length >= values.length, 60_000)
      await consumer.stop()
      await consumer.disconnect()
      expect([...seen].sort()).toEqual([...values].sort())

      const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
      const total = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0)
      expect(total).toBe(values.length)

      // A committed and an aborted transaction: read_committed sees only the first.
      const txTopic = uniqueName('ct-tx')
      await admin.createTopics({ topics: [{ topic: txTopic }], waitForLeaders: true })
      const tx = kc.producer({ transactionalId: uniqueName('ct-txid'), idempotent: true, maxInFlightRequests: 1 })
      await tx.connect()
      const ok = await tx.transaction()
      await ok.send({ topic: txTopic, messages: [{ value: 'committed' }] })
      await ok.commit()
      const ko = await tx.transaction()
      await ko.send({ topic: txTopic, messages: [{ value: 'aborted' }] })
      await ko.abort()
      // A later committed record: once the reader has it, it has passed the aborted one.
      const after = await tx.transaction()
      await after.send({ topic: txTopic, messages: [{ value: 'after' }] })
      await after.commit()
      await tx.disconnect()

      const read: string[] = []
      const reader = kc.consumer({ groupId: uniqueName('ct-reader'), readUncommitted: false })
      await reader.connect()
      await reader.subscribe({ topic: txTopic, fromBeginning: true })
      await reader.run({ eachMessage: async ({ message }) => void read.push(message.value?.toString() ?? '') })
      await waitFor(() => read.includes('after'), 60_000)
      await reader.stop()
      await reader.disconnect()
      expect(read).toEqual(['committed', 'after'])
    } finally {
      await admin.disconnect()
    }
  })

  it('a missing image is one HARNESS error that says how to build one, and leaves nothing behind', async () => {
    const image = 'localhost/kafkatune-no-such-image:0'
    const err = await startContainerKafka({ nodes: 1, image }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isKafkatuneError(err, 'HARNESS')).toBe(true)
    expect((err as Error).message).toContain(image)
    expect((err as Error).message).toContain('scripts/build-kafka-image.sh')
    const docker = (await getContainerRuntimeClient()).container.dockerode
    const left = await docker.listContainers({ all: true, filters: { label: ['dev.kafkatune.managed=true'] } })
    expect(left.filter((c) => c.Image === image)).toEqual([])
  })

  it('stop() removes its containers and network', async () => {
    const before = await runtimeObjects(kafka)
    expect(before.containers).toHaveLength(1)
    expect(before.networks).toHaveLength(1)
    await kafka.stop()
    const docker = (await getContainerRuntimeClient()).container.dockerode
    const left = await docker.listContainers({ all: true })
    expect(left.filter((c) => before.containers.includes(c.Id))).toEqual([])
    const nets = await docker.listNetworks()
    expect(nets.filter((n) => before.networks.includes(n.Name))).toEqual([])
    expect(await answers(kafka.brokers[0] as string)).toBe(false)
  })
})

describe.runIf(available)('container mode, 3-node cluster faults', () => {
  let kafka: KafkaHandle
  let admin: Admin
  const topic = uniqueName('ct-rf3')

  function node(id: number): NodeControl {
    const n = kafka.nodes.find((x) => x.nodeId === id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }
  function othersThan(id: number): string[] {
    return kafka.nodes.filter((n) => n.nodeId !== id).map((n) => n.brokerAddress)
  }
  async function leader(): Promise<number> {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    return meta.topics[0]?.partitions[0]?.leader ?? -1
  }
  async function liveBrokers(via: string[]): Promise<number[]> {
    const a = client(via, { retries: 1 }).admin()
    await a.connect()
    try {
      return (await a.describeCluster()).brokers.map((b) => b.nodeId).sort()
    } finally {
      await a.disconnect()
    }
  }
  /** acks=all writes through the given brokers: RF 3 / min ISR 2 accepts them with one node out. */
  async function produceAll(via: string[], n = 20): Promise<void> {
    const producer = client(via).producer()
    await producer.connect()
    try {
      // acks=all waits until the controller drops a dead follower from the ISR: give the broker 30 s for it.
      const res = await producer.send({ topic, acks: -1, timeout: 30_000, messages: Array.from({ length: n }, (_, i) => ({ value: `m${i}` })) })
      expect(res[0]?.errorCode).toBe(0)
    } finally {
      await producer.disconnect()
    }
  }
  /** Back to full health: three live brokers and the partition's ISR has all three. */
  async function healthy(): Promise<void> {
    await waitFor(async () => (await liveBrokers(kafka.brokers)).length === 3, 90_000, 250)
    await waitFor(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] })
      return (meta.topics[0]?.partitions[0]?.isr.length ?? 0) === 3
    }, 90_000, 250)
  }

  beforeAll(async () => {
    kafka = await startContainerKafka({ nodes: 3 })
    admin = client(kafka.brokers).admin()
    await admin.connect()
    // No waitForLeaders: on a fresh cluster it can ask a broker that has not seen the topic yet and fail.
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    })
    await healthy()
  })
  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined)
    await kafka?.stop()
  })

  it('starts three nodes on one cluster', async () => {
    expect(kafka.mode).toBe('container')
    expect(kafka.nodes.map((n) => n.nodeId)).toEqual([1, 2, 3])
    expect(await liveBrokers(kafka.brokers)).toEqual([1, 2, 3])
  })

  it('kill(): the leader dies, leadership moves, acks=all writes still succeed; start() brings it back', async () => {
    const dead = await leader()
    await node(dead).kill()
    expect(await answers(node(dead).brokerAddress)).toBe(false)
    await waitFor(async () => ![dead, -1].includes(await leader()), 60_000, 250)
    await produceAll(othersThan(dead))
    await node(dead).start()
    expect(await answers(node(dead).brokerAddress)).toBe(true)
    await healthy()
  })

  it('stop()/start(): a stopped follower stops answering, is fenced, and the cluster keeps accepting writes', async () => {
    const lead = await leader()
    const id = lead === 3 ? 2 : 3
    await node(id).stop()
    expect(await answers(node(id).brokerAddress)).toBe(false)
    await produceAll(othersThan(id))
    await waitFor(async () => !(await liveBrokers(othersThan(id))).includes(id), 60_000, 500)
    await node(id).start()
    expect(await answers(node(id).brokerAddress)).toBe(true)
    await healthy()
  })

  it('pause()/resume(): a paused node does not answer, the others do, and it answers again after resume', async () => {
    const id = 2
    await node(id).pause()
    try {
      expect(await answers(node(id).brokerAddress)).toBe(false)
      expect(await answers(othersThan(id)[0] as string)).toBe(true)
    } finally {
      await node(id).resume()
    }
    expect(await answers(node(id).brokerAddress)).toBe(true)
    await healthy()
  })

  it('disconnect()/connect(): a cut-off follower is fenced and dropped from the ISR, writes go on, and it rejoins', async () => {
    const id = (await leader()) === 1 ? 2 : 1
    await node(id).disconnect?.()
    try {
      await produceAll(othersThan(id))
      await waitFor(async () => !(await liveBrokers(othersThan(id))).includes(id), 60_000, 500)
      const a = client(othersThan(id)).admin()
      await a.connect()
      try {
        const meta = await a.fetchTopicMetadata({ topics: [topic] })
        expect(meta.topics[0]?.partitions[0]?.isr).not.toContain(id)
      } finally {
        await a.disconnect()
      }
    } finally {
      await node(id).connect?.()
    }
    await healthy()
  })
})
