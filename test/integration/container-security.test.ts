/**
 * `startKafka({ security })` in container mode against a real runtime (Docker, or Podman via
 * scripts/podman-setup.sh) and kafkatune's image (scripts/build-kafka-image.sh): a single node with SASL_SSL
 * (SCRAM users created at format time inside the container) and mutual-TLS listeners, the key store copied in.
 * Skipped only when no container runtime answers; in CI (or with KAFKATUNE_REQUIRE_CONTAINERS=1) that is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kafka, logLevel } from 'kafkajs'
import { getContainerRuntimeClient } from 'testcontainers'
import { createAdmin } from '../../src/admin/index.js'
import type { ConnectionOptions } from '../../src/config/index.js'
import { createConsumer } from '../../src/consumer/index.js'
import { isKafkatuneError } from '../../src/errors.js'
import { createProducer } from '../../src/producer/index.js'
import { containerRuntimeAvailable, startContainerKafka } from '../../src/testing/container.js'
import type { KafkaHandle, TestConnection } from '../../src/testing/types.js'
import { uniqueName, waitFor } from '../helpers/kafka.js'

const required = (process.env.CI ?? '') !== '' || process.env.KAFKATUNE_REQUIRE_CONTAINERS === '1'
const available = await containerRuntimeAvailable()
if (!available && !required) {
  console.warn('[container-security.test] not run: no container runtime answered (see container.test.ts; set KAFKATUNE_REQUIRE_CONTAINERS=1 to make this a failure)')
}

describe.runIf(available || required)('container runtime for secured listeners', () => {
  it('answers (required in CI)', () => {
    expect(available, 'no container runtime answered: `source scripts/podman-setup.sh` or start Docker').toBe(true)
  })
})

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }

/** Produces three records over `c` and reads them back with a group consumer over the same listener. */
async function roundTrip(c: TestConnection): Promise<string[]> {
  const topic = uniqueName('cs-topic')
  const admin = createAdmin({ ...c })
  try {
    expect(await admin.ensureTopic({ name: topic, partitions: 1, replicationFactor: 1 })).toEqual({ created: true })
  } finally {
    await admin.disconnect()
  }
  const producer = createProducer({ ...c, lingerMs: 0 })
  await producer.connect()
  try {
    for (const value of ['a', 'b', 'c']) await producer.send({ topic, key: value, value })
  } finally {
    await producer.disconnect()
  }
  const seen: string[] = []
  const consumer = createConsumer({ ...c, groupId: uniqueName('cs-group'), topics: [topic], autoOffsetReset: 'earliest', ...fast })
  await consumer.connect()
  try {
    await consumer.run({ eachMessage: async ({ value }) => void seen.push(value ?? '') })
    await waitFor(() => seen.length === 3, 60_000)
  } finally {
    await consumer.disconnect()
  }
  return seen
}

/** The error a producer's connect fails with, and how long it took. */
async function connectFailure(c: Pick<ConnectionOptions, 'brokers' | 'ssl' | 'sasl'>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now()
  const producer = createProducer({ ...c })
  try {
    await producer.connect()
  } catch (err) {
    return { err, ms: Date.now() - started }
  } finally {
    await producer.disconnect().catch(() => undefined)
  }
  throw new Error('connect succeeded with wrong credentials')
}

describe.runIf(available)('container mode with secured listeners', () => {
  let kafka: KafkaHandle

  beforeAll(async () => {
    kafka = await startContainerKafka({ nodes: 1, security: { listeners: ['sasl-ssl', 'mtls'], mechanisms: ['scram-sha-256', 'scram-sha-512', 'plain'] } })
  })
  afterAll(async () => {
    await kafka?.stop()
  })

  it('publishes every listener on loopback and points brokers at the first secured one', () => {
    const s = kafka.security!
    expect(kafka.mode).toBe('container')
    expect(s.listeners).toEqual(['sasl-ssl', 'mtls'])
    const ports = [s.brokers['sasl-ssl'], s.brokers.mtls, s.brokers.plaintext].map((list) => {
      expect(list).toHaveLength(1)
      expect(list[0]).toMatch(/^127\.0\.0\.1:\d+$/)
      return list[0]
    })
    expect(new Set(ports).size).toBe(3)
    expect(kafka.brokers).toEqual(s.brokers['sasl-ssl'])
    expect(kafka.nodes[0]?.brokerAddress).toBe(s.brokers['sasl-ssl'][0])
    expect(s.ca).toContain('BEGIN CERTIFICATE')
  })

  it('SASL_SSL with SCRAM-SHA-512: admin, producer and consumer', async () => {
    expect(await roundTrip(kafka.security!.connection('sasl-ssl', 'scram-sha-512'))).toEqual(['a', 'b', 'c'])
  })

  it('SASL_SSL with SCRAM-SHA-256 and with PLAIN (JAAS users): a producer connects', async () => {
    for (const mechanism of ['scram-sha-256', 'plain'] as const) {
      const producer = createProducer({ ...kafka.security!.connection('sasl-ssl', mechanism) })
      await producer.connect()
      await producer.disconnect()
    }
  })

  it('mutual TLS with the client certificate: admin, producer and consumer', async () => {
    expect(await roundTrip(kafka.security!.connection('mtls'))).toEqual(['a', 'b', 'c'])
  })

  it('the internal PLAINTEXT listener still answers a plain kafkajs client', async () => {
    const admin = new Kafka({ clientId: 'cs-plain', brokers: kafka.security!.brokers.plaintext, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      expect((await admin.describeCluster()).brokers).toHaveLength(1)
    } finally {
      await admin.disconnect()
    }
  })

  it('stop()/start() keeps the records and the SCRAM users (the storage is formatted once)', async () => {
    const c = kafka.security!.connection('sasl-ssl', 'scram-sha-512')
    const topic = uniqueName('cs-restart')
    const producer = createProducer({ ...c, lingerMs: 0 })
    await producer.connect()
    try {
      for (const value of ['x', 'y']) await producer.send({ topic, value })
    } finally {
      await producer.disconnect()
    }
    await kafka.nodes[0]!.stop()
    await kafka.nodes[0]!.start()
    // A copy: kafkajs writes into its sasl object, and kafkatune's factories froze this one.
    const sasl = { ...(c.sasl as { mechanism: 'scram-sha-512'; username: string; password: string }) }
    const admin = new Kafka({ clientId: 'cs-restart', brokers: c.brokers, ssl: c.ssl, sasl, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      expect(Number((await admin.fetchTopicOffsets(topic))[0]?.high)).toBe(2)
    } finally {
      await admin.disconnect()
    }
  })

  it('a wrong SCRAM password over SASL_SSL fails fast with AUTHENTICATION', async () => {
    const c = kafka.security!.connection('sasl-ssl', 'scram-sha-512')
    const { err, ms } = await connectFailure({ ...c, sasl: { mechanism: 'scram-sha-512', username: kafka.security!.users.scram.username, password: 'wrong-password' } })
    expect(isKafkatuneError(err, 'AUTHENTICATION'), String(err)).toBe(true)
    expect(ms).toBeLessThan(5000)
    expect((err as Error).message).not.toContain(kafka.security!.users.scram.password)
  })

  it("the container's log (which a failed start puts in its error) holds no password", async () => {
    const docker = (await getContainerRuntimeClient()).container.dockerode
    const port = Number(kafka.brokers[0]?.split(':').pop())
    const all = await docker.listContainers({ all: true, filters: { label: ['dev.kafkatune.managed=true'] } })
    const mine = all.filter((c) => c.Ports.some((p) => p.PublicPort === port))
    expect(mine).toHaveLength(1)
    const log = (await docker.getContainer(mine[0]!.Id).logs({ stdout: true, stderr: true, follow: false })).toString('utf8')
    expect(log).toContain('SCRAM argument(s)')
    for (const secret of [kafka.security!.users.scram.password, kafka.security!.users.plain.password]) expect(log).not.toContain(secret)
  })

  it('mutual TLS without a client certificate is refused', async () => {
    const c = kafka.security!.connection('mtls')
    const { err, ms } = await connectFailure({ brokers: c.brokers, ssl: { ca: c.ssl!.ca } })
    expect(isKafkatuneError(err), String(err)).toBe(true)
    expect(ms).toBeLessThan(10_000)
  })
})

describe.runIf(available)('container mode refuses secured listeners on an image that cannot create them', () => {
  it('the official image name: CONFIG_INVALID before anything starts', async () => {
    const err = await startContainerKafka({ image: 'apache/kafka:0.0.0-not-here', security: { listeners: ['sasl-ssl'] } }).then(
      (k) => k.stop().then(() => undefined),
      (e: unknown) => e,
    )
    expect(isKafkatuneError(err, 'CONFIG_INVALID'), String(err)).toBe(true)
    expect((err as Error).message).toMatch(/build-kafka-image\.sh/)
  })
})
