/**
 * Two pipeline members in separate processes, as a scaled deployment runs them: a member joining, a member
 * leaving, a member SIGKILLed and (on 3 nodes) a broker restarted must neither stop the survivors nor break
 * exactly-once: a read_committed reader sees every input once.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Kafka, logLevel, type Consumer } from 'kafkajs'
import { startKafka } from '../../src/testing/index.js'
import type { KafkaHandle } from '../../src/testing/index.js'
import { brokers, readCommittedValues, uniqueName, waitFor } from '../helpers/kafka.js'

const CHILD = fileURLToPath(new URL('../fixtures/pipeline-child.mjs', import.meta.url))
const children: ChildProcess[] = []
const consumers: Consumer[] = []

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)))
})

interface Member {
  child: ChildProcess
  processed: () => number
  /** Errors the member reported before exiting by itself, and any log line at error level. */
  errors: string[]
  exited: Promise<number | null>
  alive: () => boolean
}

function member(cfg: object): Member {
  const child = fork(CHILD, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
  children.push(child)
  let processed = 0
  const errors: string[] = []
  // The child logs with the default logger (pino at warn, on stderr): during rebalances, kills and broker
  // restarts nothing may reach `error` (kafkajs's retried answers belong at debug).
  let rest = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      process.stderr.write(line + '\n')
      if (/"level":(50|60)/.test(line)) errors.push(line.slice(0, 300))
    }
  })
  child.on('message', (m: { type: string; metrics?: { inputRecords: number }; code?: string; message?: string }) => {
    if (m.type === 'metrics' && m.metrics) processed = m.metrics.inputRecords
    if (m.type === 'error') errors.push(`${m.code}: ${m.message}`)
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, processed: () => processed, errors, exited, alive: () => child.exitCode === null && child.signalCode === null }
}

async function stopMember(m: Member, signal: NodeJS.Signals): Promise<number | null> {
  m.child.kill(signal)
  return m.exited
}

function kafkaOn(list: string[]): Kafka {
  return new Kafka({ clientId: uniqueName('pm'), brokers: list, logLevel: logLevel.NOTHING })
}

async function createTopics(list: string[], topics: string[], partitions: number, replicationFactor: number): Promise<void> {
  const admin = kafkaOn(list).admin()
  await admin.connect()
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })) })
  } finally {
    await admin.disconnect()
  }
}

async function produceRange(list: string[], topic: string, from: number, to: number): Promise<void> {
  const producer = kafkaOn(list).producer({ idempotent: true })
  await producer.connect()
  for (let i = from; i < to; i += 500) {
    const messages = Array.from({ length: Math.min(500, to - i) }, (_, j) => ({ key: `k${(i + j) % 41}`, value: String(i + j) }))
    await producer.send({ topic, acks: -1, messages })
  }
  await producer.disconnect()
}

function expectExactlyOnce(values: string[], n: number): void {
  const dupes = values.length - new Set(values).size
  expect({ records: values.length, unique: new Set(values).size, dupes }).toEqual({ records: n, unique: n, dupes: 0 })
  for (let i = 0; i < n; i++) if (!values.includes(`copied:${i}`)) expect.fail(`input ${i} is missing from the output`)
}

describe('pipeline members in separate processes', () => {
  it('survive a member joining, leaving and being SIGKILLed; every input exactly once', async () => {
    const list = brokers()
    const input = uniqueName('pm-in')
    const output = uniqueName('pm-out')
    await createTopics(list, [input, output], 6, 1)
    const N = 6000
    const cfg = { brokers: list, groupId: uniqueName('pm-group'), from: input, to: output, prefix: uniqueName('pm-tx'), sessionTimeoutMs: 6000, maxPollRecords: 20, delayMs: 1 }
    await produceRange(list, input, 0, 2000)
    const a = member(cfg)
    await waitFor(() => a.processed() >= 200, 90_000, 20)

    const b = member(cfg) // joins: a rebalance for A
    await waitFor(() => b.processed() >= 100 || !a.alive(), 90_000, 20)
    await produceRange(list, input, 2000, 4000)
    expect(await stopMember(b, 'SIGTERM')).toBe(0) // leaves: another rebalance for A

    const c = member(cfg)
    await waitFor(() => c.processed() >= 100 || !a.alive(), 90_000, 20)
    await stopMember(c, 'SIGKILL') // dies: A takes over after the session timeout
    await produceRange(list, input, 4000, N)

    const values = await readCommittedValues(kafkaOn(list), consumers, output, N, 150_000)
    expect({ alive: a.alive(), errors: a.errors }).toEqual({ alive: true, errors: [] })
    expectExactlyOnce(values, N)
    expect(await stopMember(a, 'SIGTERM')).toBe(0)
  }, 300_000)
})

describe('pipeline members on a 3-node cluster', () => {
  let cluster: KafkaHandle
  beforeAll(async () => {
    cluster = await startKafka({ nodes: 3, mode: 'local' })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('survive a broker restart; every input exactly once', async () => {
    const list = cluster.brokers
    const input = uniqueName('pm3-in')
    const output = uniqueName('pm3-out')
    await createTopics(list, [input, output], 6, 3)
    const N = 4000
    const cfg = { brokers: list, groupId: uniqueName('pm3-group'), from: input, to: output, prefix: uniqueName('pm3-tx'), sessionTimeoutMs: 10_000, maxPollRecords: 20, delayMs: 1 }
    await produceRange(list, input, 0, N)
    const a = member(cfg)
    const b = member(cfg)
    await waitFor(() => a.processed() + b.processed() >= 800, 120_000, 20)
    // Restart the node that coordinates most: the group's and the transactions' coordinators move and come back.
    const node = cluster.nodes[0]!
    await node.kill()
    await waitFor(() => a.processed() + b.processed() >= 1600 || !a.alive() || !b.alive(), 120_000, 50)
    await node.start()
    const values = await readCommittedValues(kafkaOn(list), consumers, output, N, 180_000)
    expect({ a: a.alive(), b: b.alive(), errors: [...a.errors, ...b.errors] }).toEqual({ a: true, b: true, errors: [] })
    expectExactlyOnce(values, N)
    expect(await stopMember(a, 'SIGTERM')).toBe(0)
    expect(await stopMember(b, 'SIGTERM')).toBe(0)
  }, 400_000)
})
