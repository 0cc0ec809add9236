/**
 * kafkatune consumers and the Java client's consumer (Kafka's ConsoleConsumer from the harness jars) in one
 * group with the `sticky` assignor: whoever leads, every partition has exactly one owner and records flow.
 * Java sends null userData on its first join, which once crashed a kafkatune leader.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer, GroupJoinEvent } from '../../src/consumer/index.js'
import { generationOf } from '../../src/kafkajs/group-generation.js'
import { ensureKafkaJars, javaExecutable } from '../../src/testing/jars.js'
import { quietLogger, produce } from '../fixtures/consumer-helpers.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'

const PARTITIONS = 6
let libs: string
const consumers: Consumer[] = []
const javas: ChildProcessWithoutNullStreams[] = []

beforeAll(async () => {
  libs = await ensureKafkaJars()
})

afterEach(async () => {
  for (const j of javas.splice(0)) if (j.exitCode === null && j.signalCode === null) j.kill('SIGKILL')
  await Promise.allSettled(consumers.splice(0).map((c) => c.disconnect()))
})

interface JavaMember {
  /** partition -> values printed by the Java consumer. */
  seen: Map<number, string[]>
  stop(): Promise<void>
}

/** A Java consumer in `groupId` using the Java client's StickyAssignor; it prints `partition<TAB>value` per record. */
function javaMember(topic: string, groupId: string): JavaMember {
  const child = spawn(
    javaExecutable(),
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-cp',
      `${libs}/*`,
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server',
      brokers().join(','),
      '--topic',
      topic,
      '--group',
      groupId,
      '--consumer-property',
      'partition.assignment.strategy=org.apache.kafka.clients.consumer.StickyAssignor',
      '--consumer-property',
      'session.timeout.ms=6000',
      '--consumer-property',
      'heartbeat.interval.ms=500',
      '--consumer-property',
      'auto.offset.reset=earliest',
      '--property',
      'print.partition=true',
    ],
    { stdio: 'pipe' },
  )
  javas.push(child)
  const seen = new Map<number, string[]>()
  let rest = ''
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      const m = /^Partition:(\d+)\t(.*)$/.exec(line)
      if (m === null) continue
      const p = Number(m[1])
      seen.set(p, [...(seen.get(p) ?? []), m[2]!])
    }
  })
  child.stderr.resume()
  child.stdin.end()
  return {
    seen,
    // SIGTERM runs ConsoleConsumer's shutdown hook, which closes the consumer and leaves the group.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

interface NodeMember {
  joins: GroupJoinEvent[]
  seen: Map<number, string[]>
}

async function nodeMember(topic: string, groupId: string): Promise<NodeMember> {
  const consumer = createConsumer({
    brokers: brokers(),
    groupId,
    topics: [topic],
    logger: quietLogger(),
    partitionAssignors: ['sticky'],
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 300,
    maxPollIntervalMs: 10_000,
    fetchMaxWaitMs: 100,
    autoOffsetReset: 'earliest',
  })
  consumers.push(consumer)
  const joins: GroupJoinEvent[] = []
  const seen = new Map<number, string[]>()
  consumer.on('group-join', (e) => void joins.push(e))
  const crashed: unknown[] = []
  consumer.on('error', (e) => void crashed.push(e))
  await consumer.connect()
  await consumer.run({
    eachMessage: async (msg) => {
      seen.set(msg.partition, [...(seen.get(msg.partition) ?? []), msg.value ?? ''])
    },
  })
  expect(crashed).toEqual([])
  return { joins, seen }
}

const ownedBy = (m: NodeMember, topic: string): number[] => [...(m.joins.at(-1)?.assignment[topic] ?? [])].sort((a, b) => a - b)

async function produceRound(topic: string, round: string): Promise<void> {
  await produce(
    topic,
    Array.from({ length: PARTITIONS * 5 }, (_, i) => ({ value: `${round}-${i}`, partition: i % PARTITIONS })),
  )
}

/** Every record of `round` was consumed once, by the member that owns its partition. */
async function expectSplit(topic: string, round: string, node: NodeMember, java: JavaMember): Promise<void> {
  const mine = new Set(ownedBy(node, topic))
  const count = (seen: Map<number, string[]>, p: number): number => (seen.get(p) ?? []).filter((v) => v.startsWith(`${round}-`)).length
  await waitFor(() => Array.from({ length: PARTITIONS }, (_, p) => count(node.seen, p) + count(java.seen, p)).every((n) => n >= 5), 60_000)
  for (let p = 0; p < PARTITIONS; p++) {
    expect({ p, node: count(node.seen, p), java: count(java.seen, p) }).toEqual({ p, node: mine.has(p) ? 5 : 0, java: mine.has(p) ? 0 : 5 })
  }
}

describe('a sticky group shared with a Java consumer', () => {
  it('kafkatune leads: a Java member joins (null userData), gets half, and leaves again', async () => {
    const topic = uniqueName('java-sticky-a')
    const groupId = uniqueName('g')
    await createTopic(topic, PARTITIONS)
    const node = await nodeMember(topic, groupId)
    await waitFor(() => ownedBy(node, topic).length === PARTITIONS, 45_000)
    const before = ownedBy(node, topic)
    // The userData carries the real group generation (what Java compares), captured from kafkajs' SyncGroup.
    expect(generationOf(node.joins.at(-1)!.memberId)).toBeGreaterThanOrEqual(1)

    const java = javaMember(topic, groupId)
    await waitFor(() => ownedBy(node, topic).length === PARTITIONS / 2, 60_000)
    // Sticky: what kafkatune kept is a subset of what it had.
    for (const p of ownedBy(node, topic)) expect(before).toContain(p)
    await produceRound(topic, 'shared')
    await expectSplit(topic, 'shared', node, java)

    await java.stop()
    await waitFor(() => ownedBy(node, topic).length === PARTITIONS, 60_000)
    await produceRound(topic, 'alone')
    await waitFor(() => [...node.seen.values()].flat().filter((v) => v.startsWith('alone-')).length === PARTITIONS * 5, 60_000)
  })

  it('Java leads: a kafkatune member joins with Java-format userData and the group splits evenly', async () => {
    const topic = uniqueName('java-sticky-b')
    const groupId = uniqueName('g')
    await createTopic(topic, PARTITIONS)
    const java = javaMember(topic, groupId)
    await produceRound(topic, 'warmup')
    // The Java member owns everything once it has printed records from every partition.
    await waitFor(() => java.seen.size === PARTITIONS, 60_000)

    const node = await nodeMember(topic, groupId)
    await waitFor(() => ownedBy(node, topic).length === PARTITIONS / 2, 60_000)
    await produceRound(topic, 'shared')
    await expectSplit(topic, 'shared', node, java)
    await java.stop()
  })
})
