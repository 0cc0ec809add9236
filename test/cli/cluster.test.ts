/**
 * doctor, tail and bench against one real single-node broker (startKafka; KAFKATUNE_KAFKA_MODE=local on a
 * machine without containers), topics made wrong on purpose, and the unreachable-broker paths.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Kafka, logLevel } from 'kafkajs'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConsumer, createProducer, serializers } from '../../src/index.js'
import type { Consumer } from '../../src/index.js'
import { startKafka } from '../../src/testing/index.js'
import type { KafkaHandle } from '../../src/testing/index.js'
import { startRegistry } from '../helpers/registry.js'
import { eventually, killLeftovers, runCli, startCli } from './run-cli.js'

const logger = pino({ level: 'silent' })
let kafka: KafkaHandle
let B: string
const name = (p: string) => `${p}-${randomBytes(3).toString('hex')}`

interface Finding {
  severity: string
  check: string
  subject: string
  fix: { setting: string; value: string }
}

async function createTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(config).map(([n, value]) => ({ name: n, value })) }] })
    const deadline = Date.now() + 30_000
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null)
      const parts = meta?.topics[0]?.partitions ?? []
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await admin.disconnect()
  }
}

async function doctor(args: string[]): Promise<{ code: number | null; findings: Finding[]; doc: Record<string, unknown> }> {
  const r = await runCli(['doctor', '--brokers', B, '--json', ...args])
  expect(r.stderr).toBe('')
  const doc = JSON.parse(r.stdout) as { findings: Finding[] }
  return { code: r.code, findings: doc.findings, doc }
}

beforeAll(async () => {
  kafka = await startKafka({ nodes: 1 })
  B = kafka.brokers.join(',')
})
afterEach(() => {
  killLeftovers()
})
afterAll(async () => {
  await kafka?.stop()
})

describe('kafkatune doctor (1 node)', () => {
  it('a healthy topic and default clients: no finding, exit 0', async () => {
    const topic = name('healthy')
    await createTopic(topic, 3)
    const { code, findings } = await doctor(['--topic', topic])
    expect(findings).toEqual([])
    expect(code).toBe(0)
    const human = await runCli(['doctor', '--brokers', B, '--topic', topic])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('no findings')
  })

  it('finds each problem of topics made wrong on purpose, with the setting to change', async () => {
    const [minIsr, unclean, size, comp] = [name('min-isr'), name('unclean'), name('size'), name('gzip')]
    await createTopic(minIsr, 1, { 'min.insync.replicas': '2' })
    await createTopic(unclean, 1, { 'unclean.leader.election.enable': 'true' })
    await createTopic(size, 1, { 'max.message.bytes': '10000' })
    await createTopic(comp, 1, { 'compression.type': 'gzip' })
    const { code, findings } = await doctor(['--topic', minIsr, '--topic', unclean, '--topic', size, '--topic', comp])
    expect(code).toBe(1)
    const by = (check: string) => findings.filter((f) => f.check === check)
    expect(by('topic.min-isr-above-rf')).toEqual([expect.objectContaining({ severity: 'error', subject: `topic ${minIsr}`, fix: expect.objectContaining({ setting: 'min.insync.replicas', value: '1' }) })])
    expect(by('topic.unclean-leader-election')).toEqual([expect.objectContaining({ subject: `topic ${unclean}`, fix: expect.objectContaining({ setting: 'unclean.leader.election.enable', value: 'false' }) })])
    expect(by('topic.max-message-bytes')).toEqual([expect.objectContaining({ subject: `topic ${size}`, fix: expect.objectContaining({ setting: 'max.message.bytes', value: '1048576' }) })])
    expect(by('topic.compression-mismatch')).toEqual([expect.objectContaining({ subject: `topic ${comp}`, fix: expect.objectContaining({ setting: 'compression.type', value: 'producer' }) })])
    expect(findings).toHaveLength(4)
    // The producer's compression matching the topic's is no finding.
    const lz = await doctor(['--topic', comp, '--set', 'compression=gzip'])
    expect(lz.findings).toEqual([])
  })

  it('session timeouts outside the broker bounds are errors; a bad --set is exit 2', async () => {
    const topic = name('session')
    await createTopic(topic, 1)
    const below = await doctor(['--topic', topic, '--set', 'sessionTimeoutMs=4000', 'heartbeatIntervalMs=1000'])
    expect(below.findings.map((f) => f.check)).toEqual(['broker.session-timeout-below-min'])
    expect(below.findings[0]?.fix).toMatchObject({ setting: 'sessionTimeoutMs (session.timeout.ms)', value: '6000' })
    const above = await doctor(['--topic', topic, '--set', 'session.timeout.ms=2000000', 'max.poll.interval.ms=3000000'])
    expect(above.findings.map((f) => f.check)).toEqual(['broker.session-timeout-above-max'])
    const bad = await runCli(['doctor', '--brokers', B, '--preset', 'nope'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unknown preset 'nope'/)
  })

  it('groups: more members than partitions, and lag nobody consumes', async () => {
    const topic = name('grp')
    const groupId = name('g')
    await createTopic(topic, 1)
    const producer = createProducer({ brokers: kafka.brokers, logger })
    await producer.connect()
    await Promise.all(Array.from({ length: 5 }, (_, i) => producer.send({ topic, key: `k${i}`, value: `v${i}` })))
    await producer.disconnect()
    const consumers: Consumer[] = []
    let joins = 0
    try {
      for (let i = 0; i < 2; i++) {
        const c = createConsumer({ brokers: kafka.brokers, logger, groupId, topics: [topic], autoOffsetReset: 'latest', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 })
        c.on('group-join', () => joins++)
        await c.connect()
        await c.run({ eachMessage: async () => undefined })
        consumers.push(c)
      }
      await eventually(() => joins >= 2, 30_000, 'both members joined')
      const busy = await doctor(['--topic', topic, '--group', groupId])
      expect(busy.findings.map((f) => f.check)).toContain('group.members-above-partitions')
      expect(busy.findings.find((f) => f.check === 'group.members-above-partitions')?.fix).toMatchObject({ setting: 'partitions', value: '2' })
    } finally {
      for (const c of consumers) await c.disconnect()
    }
    // Nobody consumes now and 5 records wait (the members started at the end and committed nothing).
    const idle = await doctor(['--topic', topic, '--group', groupId])
    expect(idle.findings.map((f) => f.check)).toEqual(['group.no-members-with-lag'])
    const groups = idle.doc.groups as { state: string; lag: { total: number }[] }[]
    expect(groups[0]?.state).toBe('Empty')
    expect(groups[0]?.lag[0]?.total).toBe(5)
  })

  it('exactly-once on a cluster whose transaction log has one copy: none on 1 node (the most it can have)', async () => {
    const topic = name('eo')
    await createTopic(topic, 1)
    const { findings } = await doctor(['--topic', topic, '--preset', 'exactly-once'])
    expect(findings).toEqual([])
  })
})

describe('kafkatune tail', () => {
  it('prints records with partition, offset, key, value and headers; without --group nothing is committed', async () => {
    const topic = name('tail')
    await createTopic(topic, 2)
    const producer = createProducer({ brokers: kafka.brokers, logger })
    await producer.connect()
    await Promise.all(Array.from({ length: 4 }, (_, i) => producer.send({ topic, key: `key-${i}`, value: JSON.stringify({ n: i }), headers: { trace: `t${i}` } })))
    await producer.disconnect()

    const r = await runCli(['tail', topic, '--brokers', B, '--from-beginning', '--max', '4', '--value', 'json', '--json'])
    expect(r.code).toBe(0)
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { partition: number; offset: string; key: string; value: { n: number }; headers: Record<string, string> })
    expect(records).toHaveLength(4)
    expect(records.map((x) => x.value.n).sort()).toEqual([0, 1, 2, 3])
    for (const x of records) {
      expect(x.key).toBe(`key-${x.value.n}`)
      expect(x.headers).toEqual({ trace: `t${x.value.n}` })
      expect([0, 1]).toContain(x.partition)
      expect(x.offset).toMatch(/^\d+$/)
    }
    const human = await runCli(['tail', topic, '--brokers', B, '--from-beginning', '--max', '1'])
    expect(human.stdout).toMatch(/^p[01] @\d+ {2}key-\d {2}\{"n":\d\} {2}\{"trace":"t\d"\}\n$/)

    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      const throwaway = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith('kafkatune-tail-'))
      expect(throwaway.length).toBeGreaterThanOrEqual(2)
      for (const groupId of throwaway) {
        const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
        expect(offsets[0]?.partitions.every((p) => p.offset === '-1'), groupId).toBe(true)
      }
    } finally {
      await admin.disconnect()
    }
  })

  it('with --group commits what it printed; stops on SIGINT with exit 0', async () => {
    const topic = name('tail-live')
    const groupId = name('tail-g')
    await createTopic(topic, 1)
    const c = startCli(['tail', topic, '--brokers', B, '--group', groupId])
    await eventually(() => c.stderr().includes('reading'), 30_000, 'tail joined')
    const producer = createProducer({ brokers: kafka.brokers, logger })
    await producer.connect()
    await producer.send({ topic, key: 'live', value: 'hello' })
    await producer.disconnect()
    await eventually(() => c.stdout().includes('hello'), 30_000, 'the record printed')
    c.child.kill('SIGINT')
    const r = await c.done
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^p0 @0 {2}live {2}hello\n$/)
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
    await admin.disconnect()
    expect(offsets[0]?.partitions[0]?.offset).toBe('1')
  })

  it('decodes schemaless Avro (--value avro=<schema file>) and registry-framed values (--value registry=<url>)', async () => {
    const schema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }, { name: 'item', type: 'string' }] }
    const file = join(mkdtempSync(join(tmpdir(), 'kafkatune-cli-')), 'order.avsc')
    writeFileSync(file, JSON.stringify(schema))
    const avroTopic = name('tail-avro')
    const regTopic = name('tail-registry')
    await createTopic(avroTopic, 1)
    await createTopic(regTopic, 1)
    const registry = await startRegistry()
    try {
      const avro = createProducer<string, { id: number; item: string }>({ brokers: kafka.brokers, logger, valueSerializer: serializers.avro(schema) })
      const framed = createProducer<string, { id: number; item: string }>({ brokers: kafka.brokers, logger, valueSerializer: serializers.schemaRegistry({ host: registry.url, schema }) })
      await avro.connect()
      await framed.connect()
      await avro.send({ topic: avroTopic, key: 'a', value: { id: 1, item: 'tea' } })
      await framed.send({ topic: regTopic, key: 'r', value: { id: 2, item: 'cake' } })
      await avro.disconnect()
      await framed.disconnect()
      const a = await runCli(['tail', avroTopic, '--brokers', B, '--from-beginning', '--max', '1', '--value', `avro=${file}`, '--json'])
      expect(a.code, a.stderr).toBe(0)
      expect(JSON.parse(a.stdout)).toMatchObject({ key: 'a', value: { id: 1, item: 'tea' } })
      const r = await runCli(['tail', regTopic, '--brokers', B, '--from-beginning', '--max', '1', '--value', `registry=${registry.url}`, '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ key: 'r', value: { id: 2, item: 'cake' } })
      // A value that is not Avro is shown raw with the error, and tail goes on.
      const wrong = await runCli(['tail', regTopic, '--brokers', B, '--from-beginning', '--max', '1', '--value', `avro=${file}`, '--json'])
      expect(wrong.code).toBe(0)
      expect((JSON.parse(wrong.stdout) as { value: { undecodable: string } }).value.undecodable).toMatch(/^00/)
    } finally {
      await registry.stop()
    }
  })

  it('a missing topic is exit 1 and never created', async () => {
    const r = await runCli(['tail', 'no-such-topic-here', '--brokers', B, '--max', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/topic 'no-such-topic-here' does not exist/)
  })
})

describe('kafkatune bench', () => {
  it('prints records/s, MB/s, latency percentiles and CPU per preset, recommends one, deletes its topics', async () => {
    const r = await runCli(['bench', '--brokers', B, '--seconds', '2', '--warmup', '1', '--partitions', '2', '--rate', '500', '--json', '--goal', 'latency'], { timeoutMs: 110_000 })
    expect(r.code, r.stderr).toBe(0)
    // Not a terminal: no progress bar on stderr.
    expect(r.stderr).toBe('')
    const doc = JSON.parse(r.stdout) as {
      results: { preset: string; latency: { records: number; p50Ms: number; p99Ms: number; cpuPct: number }; throughput: { records: number; producerPerSec: number; producerMBps: number; consumerPerSec: number; consumerMBps: number } }[]
      recommendation: { goal: string; preset: string; reason: string }
      recommendations: Record<string, { preset: string; reason: string }>
    }
    expect(doc.results.map((x) => x.preset)).toEqual(['low-latency', 'high-throughput', 'exactly-once'])
    for (const x of doc.results) {
      expect(x.latency.records).toBeGreaterThan(100)
      expect(x.latency.p99Ms).toBeGreaterThanOrEqual(x.latency.p50Ms)
      expect(x.latency.p50Ms).toBeGreaterThan(0)
      expect(x.latency.cpuPct).toBeGreaterThan(0)
      expect(x.throughput.records).toBeGreaterThan(0)
      expect(x.throughput.producerPerSec).toBeGreaterThan(0)
      expect(x.throughput.producerMBps).toBeGreaterThan(0)
      expect(x.throughput.consumerPerSec).toBeGreaterThan(0)
      expect(x.throughput.consumerMBps).toBeGreaterThan(0)
    }
    expect(doc.recommendation.goal).toBe('latency')
    expect(doc.recommendation.reason).toMatch(/p99/)
    expect(doc.recommendations.durability?.preset).toBe('exactly-once')
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const left = (await admin.listTopics()).filter((t) => t.startsWith('kafkatune-bench'))
    await admin.disconnect()
    expect(left).toEqual([])
  })

  it('exactly-once commits its burst by time (--commit-interval): several records per transaction, one transaction per interval at most', async () => {
    const r = await runCli(['bench', '--brokers', B, '--seconds', '2', '--warmup', '0', '--partitions', '2', '--preset', 'exactly-once', '--commit-interval', '150', '--json'], { timeoutMs: 110_000 })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { settings: { commitIntervalMs: number }; results: { preset: string; throughput: { records: number; transactions?: number; consumerPerSec: number } }[] }
    expect(doc.settings.commitIntervalMs).toBe(150)
    const [eo] = doc.results
    expect(eo?.preset).toBe('exactly-once')
    const transactions = eo?.throughput.transactions ?? 0
    expect(transactions).toBeGreaterThanOrEqual(1)
    // The burst lasts 0.6 s of the 1 s phase; each transaction at least one chunk of 1,000 records and up to 150 ms.
    expect(transactions).toBeLessThanOrEqual(5)
    expect(eo?.throughput.records).toBeGreaterThanOrEqual(transactions * 1000)
    // Everything committed was read back by the read_committed drain.
    expect(eo?.throughput.consumerPerSec).toBeGreaterThan(0)
  })

  it('Ctrl-C stops, deletes the scratch topic and exits 130', async () => {
    const c = startCli(['bench', '--brokers', B, '--seconds', '60', '--warmup', '0', '--preset', 'low-latency'])
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      const scratch = async () => (await admin.listTopics()).filter((t) => t.startsWith('kafkatune-bench'))
      const deadline = Date.now() + 30_000
      while ((await scratch()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(await scratch()).toHaveLength(1)
      c.child.kill('SIGINT')
      const r = await c.done
      expect(r.code).toBe(130)
      expect(await scratch()).toEqual([])
    } finally {
      await admin.disconnect()
    }
  })
})

describe('no broker answering', () => {
  let silent: Server
  let silentPort = 0
  beforeAll(async () => {
    // Accepts connections and never answers: the slow failure, unlike a refused port.
    silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as { port: number }).port
  })
  afterAll(() => {
    silent.close()
  })

  it.each([
    ['doctor', []],
    ['bench', ['--seconds', '2']],
    ['tail', ['some-topic']],
  ] as [string, string[]][])('%s: a closed port fails fast with exit 1', async (cmd, extra) => {
    const r = await runCli([cmd, ...extra, '--brokers', '127.0.0.1:1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no Kafka broker answered at 127\.0\.0\.1:1 within 5 s/)
    expect(r.ms).toBeLessThan(8000)
  })

  it('a broker that accepts but never answers: exit 1 within --timeout', async () => {
    const r = await runCli(['doctor', '--brokers', `127.0.0.1:${silentPort}`, '--timeout', '2000'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no Kafka broker answered/)
    expect(r.ms).toBeLessThan(6000)
  })
})
