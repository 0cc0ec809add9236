/**
 * Replication faults on a real 3-node KRaft cluster (three combined broker+controller nodes):
 * a topic with RF 3 and min.insync.replicas 2 keeps taking acks=all writes with one node down,
 * and stops taking them with two down; an idempotent kafkatune producer with 5 batches in flight per
 * partition loses, duplicates and reorders nothing while leaders are killed and frozen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kafka, logLevel } from 'kafkajs'
import type { Admin, Producer } from 'kafkajs'
import { pino } from 'pino'
import { KafkatuneError } from '../../src/errors.js'
import { createProducer } from '../../src/producer/index.js'
import { startKafka } from '../../src/testing/index.js'
import type { KafkaHandle, NodeControl } from '../../src/testing/index.js'
import { uniqueName, waitFor } from '../helpers/kafka.js'

let cluster: KafkaHandle
let kafka: Kafka
let admin: Admin
const producers: Producer[] = []

beforeAll(async () => {
  cluster = await startKafka({ nodes: 3, mode: 'local' })
  kafka = new Kafka({ clientId: 'cluster-faults', brokers: cluster.brokers, logLevel: logLevel.NOTHING })
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)))
  await admin?.disconnect().catch(() => undefined)
  await cluster?.stop()
})

function pidAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The kafkajs protocol error type behind an error (kafkajs wraps it in retry errors). */
function errorType(err: unknown): string | undefined {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined; e !== undefined && e !== null; ) {
    if (typeof e.type === 'string') return e.type
    e = (e.cause ?? e.originalError) as typeof e
  }
  return undefined
}

async function partitionState(topic: string): Promise<{ leader: number; isr: number[] }> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] })
  const p = meta.topics[0]?.partitions[0]
  if (p === undefined) throw new Error(`no metadata for ${topic}`)
  return { leader: p.leader, isr: [...p.isr].sort() }
}

async function producer(retries: number): Promise<Producer> {
  const p = kafka.producer({ retry: { retries, initialRetryTime: 200 }, allowAutoTopicCreation: false })
  producers.push(p)
  await p.connect()
  return p
}

describe('3-node cluster, RF 3, min.insync.replicas 2', () => {
  it('acks=all survives one dead node and fails with two; acknowledged writes survive', async () => {
    expect(cluster.nodes).toHaveLength(3)
    const topic = uniqueName('faults')
    const strict = uniqueName('faults-strict')
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
        { topic: strict, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] },
      ],
      // See test/helpers/kafka.ts: waitForLeaders can fail on KRaft while metadata propagates.
      waitForLeaders: false,
    })
    await waitFor(async () => (await partitionState(topic)).isr.length === 3, 60_000)
    await waitFor(async () => (await partitionState(strict)).isr.length === 3, 60_000)

    const acked: string[] = []
    const patient = await producer(10)
    const send = async (p: Producer, value: string, timeout = 30_000): Promise<void> => {
      await p.send({ topic, acks: -1, timeout, messages: [{ key: value, value }] })
      acked.push(value)
    }
    await send(patient, 'all-up')

    // Kill one follower: the controller quorum (2 of 3) fences it and shrinks the ISR to 2.
    const { leader } = await partitionState(topic)
    const followers = cluster.nodes.filter((n) => n.nodeId !== leader)
    const [first, second] = followers as [NodeControl, NodeControl]
    const firstPid = first.pid
    await first.kill()
    expect(pidAlive(firstPid)).toBe(false)
    await send(patient, 'one-down-0')
    await waitFor(async () => !(await partitionState(topic)).isr.includes(first.nodeId), 60_000)
    for (let i = 1; i <= 20; i++) await send(patient, `one-down-${i}`)
    expect((await partitionState(topic)).isr).toHaveLength(2)

    // The same fault on a topic that needs 3 in-sync replicas: the leader refuses at once.
    const impatient = await producer(0)
    const strictError = await impatient
      .send({ topic: strict, acks: -1, timeout: 10_000, messages: [{ value: 'x' }] })
      .then(() => undefined, (err: unknown) => err)
    expect(errorType(strictError)).toBe('NOT_ENOUGH_REPLICAS')

    // A kafkatune producer without idempotence: one request to the strict topic's leader carries a batch the
    // leader refuses (NOT_ENOUGH_REPLICAS, retriable) and one it accepts. Only the refused batch is resent,
    // so the accepted one is written once (kafkajs alone reports only the first error and drops the offsets).
    const strictLeader = (await partitionState(strict)).leader
    const shared = uniqueName('faults-shared')
    await admin.createTopics({ topics: [{ topic: shared, replicaAssignment: [{ partition: 0, replicas: [strictLeader] }] }], waitForLeaders: false })
    await waitFor(async () => (await partitionState(shared)).leader === strictLeader, 30_000)
    const kt = createProducer({
      brokers: cluster.brokers,
      logger: pino({ level: 'silent' }),
      acks: 'all',
      idempotent: false,
      // Batches leave on flush() only, so the two below go out together in one request.
      lingerMs: 60_000,
      retries: 2,
      retryBackoffMs: 100,
      requestTimeoutMs: 10_000,
      deliveryTimeoutMs: 80_000,
    })
    await kt.connect()
    try {
      const refusal = (e: unknown) => e instanceof KafkatuneError && e.message.includes('NOT_ENOUGH_REPLICAS')
      // Warm-up: both topics' metadata cached, so the next sends are appended at once, before flush().
      const warmShared = kt.send({ topic: shared, value: 'warm-up' })
      const warmStrict = kt.send({ topic: strict, value: 'warm-up' })
      await kt.flush().catch(() => undefined)
      expect((await warmShared).offset).toBe('0')
      await expect(warmStrict).rejects.toSatisfy(refusal)
      const requests: number[] = []
      kt.on('producer.request', (e) => requests.push(e.batches))
      const accepted = Array.from({ length: 5 }, (_, i) => kt.send({ topic: shared, value: `shared-${i}` }))
      const refused = kt.send({ topic: strict, value: 'needs three in sync' })
      const flushed = kt.flush().catch(() => undefined)
      await expect(refused).rejects.toSatisfy(refusal)
      await flushed
      expect((await Promise.all(accepted)).map((m) => m.offset)).toEqual(['1', '2', '3', '4', '5'])
      expect(requests).toEqual([2, 1, 1])
      const [end] = await admin.fetchTopicOffsets(shared)
      expect(end?.high).toBe('6')
    } finally {
      await kt.disconnect()
    }

    // Kill a second node: the leader is now alone and acks=all writes fail.
    const secondPid = second.pid
    await second.kill()
    expect(pidAlive(secondPid)).toBe(false)
    const twoDownError = await impatient
      .send({ topic, acks: -1, timeout: 3_000, messages: [{ value: 'two-down' }] })
      .then(() => undefined, (err: unknown) => err)
    expect(twoDownError).toBeDefined()
    // With two of three combined nodes gone the KRaft quorum is gone too, so the ISR cannot shrink below
    // {leader, second}: the leader waits for a replica that never fetches and answers REQUEST_TIMED_OUT.
    // NOT_ENOUGH_REPLICAS needs a controller that can shrink the ISR (as the strict topic above shows).
    expect(errorType(twoDownError)).toBe('REQUEST_TIMED_OUT')
    expect((await partitionState(topic)).isr).toContain(second.nodeId)

    // Bring both back (same data dirs and ports): writes succeed again and nothing acknowledged is lost.
    await first.start()
    await second.start()
    expect(pidAlive(first.pid)).toBe(true)
    await waitFor(async () => (await partitionState(topic)).isr.length === 3, 90_000)
    await send(patient, 'recovered')

    const consumer = kafka.consumer({ groupId: uniqueName('faults'), maxWaitTimeInMs: 200 })
    const seen = new Set<string>()
    await consumer.connect()
    try {
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(message.value?.toString() ?? '')
        },
      })
      await waitFor(() => seen.has('recovered'), 60_000)
    } finally {
      await consumer.disconnect()
    }
    expect(acked).toHaveLength(23)
    for (const value of acked) expect(seen.has(value)).toBe(true)
  })

  it('idempotent producer, 5 in flight per partition, leaders killed and frozen under short request timeouts: per partition 0 lost, 0 duplicated, 0 reordered', async () => {
    const topic = uniqueName('faults-idem')
    const partitions = 3
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      waitForLeaders: false,
    })
    await waitFor(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] })
      return meta.topics[0]?.partitions.length === partitions && meta.topics[0].partitions.every((p) => p.leader >= 0 && p.isr.length === 3)
    }, 60_000)
    const p = createProducer({
      brokers: cluster.brokers,
      logger: pino({ level: 'silent' }),
      idempotent: true,
      maxInFlightRequests: 5,
      lingerMs: 1,
      batchSize: 4096,
      requestTimeoutMs: 2_000,
      deliveryTimeoutMs: 180_000,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 1_000,
    })
    await p.connect()
    const spans: { broker: number; start: number; end: number }[] = []
    p.on('producer.request', (e) => {
      const end = Date.now()
      spans.push({ broker: e.broker, start: end - e.durationMs, end })
    })
    const perPartition = 6_000
    const sends: Promise<{ partition: number; i: number; offset: string } | { err: unknown }>[] = []
    const leaderOf0 = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find((x) => x.partitionId === 0)!.leader
    const node = (id: number): NodeControl => cluster.nodes.find((n) => n.nodeId === id)!
    let faults: Promise<void> = Promise.resolve()
    for (let i = 0; i < perPartition; i++) {
      for (let partition = 0; partition < partitions; partition++) {
        sends.push(p.send({ topic, partition, value: `${partition}:${i}` }).then((md) => ({ partition, i, offset: md.offset }), (err: unknown) => ({ err })))
      }
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 3))
      if (i === 1_500) {
        // The leader of partition 0 is killed (leadership moves), then comes back.
        const victim = node(await leaderOf0())
        faults = (async () => {
          await victim.kill()
          await new Promise((r) => setTimeout(r, 2_000))
          await victim.start()
        })()
      }
      if (i === 3_500) {
        await faults
        // A frozen leader: requests in flight to it time out and are resent behind each other.
        const frozen = node(await leaderOf0())
        faults = (async () => {
          await frozen.pause()
          await new Promise((r) => setTimeout(r, 4_000))
          await frozen.resume()
        })()
      }
    }
    await faults
    const outcomes = await Promise.all(sends)
    expect(outcomes.filter((o) => 'err' in o)).toEqual([])
    expect(p.metrics().retries).toBeGreaterThan(0)
    let overlapping = 0
    for (const b of new Set(spans.map((s) => s.broker))) {
      const mine = spans.filter((s) => s.broker === b).sort((x, y) => x.start - y.start)
      for (let k = 1; k < mine.length; k++) if ((mine[k - 1] as { end: number }).end - (mine[k] as { start: number }).start >= 2) overlapping++
    }
    // Requests to one leader overlapped: with one partition per leader mostly, batches of a partition in flight together.
    expect(overlapping).toBeGreaterThan(0)

    const ends = await admin.fetchTopicOffsets(topic)
    for (const e of ends) expect(e.high).toBe(String(perPartition))
    const consumer = kafka.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 100 })
    const seen = new Map<number, string[]>(Array.from({ length: partitions }, (_, i) => [i, []]))
    await consumer.connect()
    try {
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen.get(partition)!.push(message.value!.toString()) })
      await waitFor(() => [...seen.values()].every((v) => v.length >= perPartition), 90_000)
    } finally {
      await consumer.disconnect()
    }
    for (let partition = 0; partition < partitions; partition++) {
      expect(seen.get(partition)).toEqual(Array.from({ length: perPartition }, (_, i) => `${partition}:${i}`))
      for (const o of outcomes) if ('partition' in o && o.partition === partition && o.offset !== '-1') expect(o.offset).toBe(String(o.i))
    }
    await p.disconnect()
  }, 300_000)
})
