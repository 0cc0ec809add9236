/**
 * Replication faults on a real 3-node KRaft cluster (three combined broker+controller nodes):
 * a topic with RF 3 and min.insync.replicas 2 keeps taking acks=all writes with one node down,
 * and stops taking them with two down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kafka, logLevel } from 'kafkajs'
import type { Admin, Producer } from 'kafkajs'
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
})
