/**
 * Schema-registry serializers end to end: a real Apicurio Registry (Confluent-compatible API) and the real
 * broker, with plain kafkajs producing and consuming the Confluent wire-format bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs'
import { KafkatuneError } from '../../src/errors.js'
import { deserializeOrThrow, schemaIdOf, serializeOrThrow, serializers } from '../../src/serde/index.js'
import type { SerdeContext, Serializer } from '../../src/serde/index.js'
import { testKafka, uniqueName, waitFor } from '../helpers/kafka.js'
import { startRegistry } from '../helpers/registry.js'
import type { RunningRegistry } from '../helpers/registry.js'

interface UserV1 {
  id: number
  name: string
}
interface UserV2 extends UserV1 {
  email: string | null
}

const userV1 = {
  type: 'record',
  name: 'User',
  namespace: 'kafkatune.test',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'string' },
  ],
}
const userV2 = { ...userV1, fields: [...userV1.fields, { name: 'email', type: ['null', 'string'], default: null }] }

let registry: RunningRegistry
let kafka: Kafka
const consumers: Consumer[] = []

beforeAll(async () => {
  registry = await startRegistry()
  process.stderr.write(`[serde-registry] Apicurio Registry ready in ${(registry.startMs / 1000).toFixed(1)} s at ${registry.url}\n`)
  kafka = testKafka('serde-registry')
})

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)))
  await registry?.stop()
})

/** Creates a topic and polls metadata for leaders (kafkajs' waitForLeaders can fail with UNKNOWN_TOPIC_OR_PARTITION on 4.1). */
async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: false })
    await waitFor(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] })
      const parts = meta.topics[0]?.partitions ?? []
      return parts.length === partitions && parts.every((p) => p.leader >= 0)
    }, 30_000)
  } finally {
    await admin.disconnect()
  }
}

async function consume(topic: string, count: number): Promise<EachMessagePayload[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('serde-registry'), maxWaitTimeInMs: 200 })
  consumers.push(consumer)
  const seen: EachMessagePayload[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async (p) => {
      seen.push(p)
    },
  })
  await waitFor(() => seen.length >= count, 60_000)
  await consumer.disconnect()
  return seen
}

const ctxOf = (topic: string, part: 'key' | 'value'): SerdeContext => ({ topic, part })

describe('serializers.schemaRegistry with Apicurio Registry and the real broker', () => {
  it('round-trips keys and values through the broker; subjects default to <topic>-key / <topic>-value', async () => {
    const topic = uniqueName('sr-users')
    await createTopic(topic, 3)
    // The Confluent client registers named Avro types only (records, enums, fixed): keys are a record too.
    const keySchema = { type: 'record', name: 'UserKey', namespace: 'kafkatune.test', fields: [{ name: 'key', type: 'string' }] }
    const keySerde = serializers.schemaRegistry<{ key: string }>({ host: registry.url, schema: keySchema })
    const valueSerde = serializers.schemaRegistry<UserV1>({ host: registry.url, schema: userV1 })

    const users: UserV1[] = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `user-${i}` }))
    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    const messages = await Promise.all(
      users.map(async (u) => ({
        key: await serializeOrThrow(keySerde, { key: `k${u.id}` }, ctxOf(topic, 'key')),
        value: await serializeOrThrow(valueSerde, u, ctxOf(topic, 'value')),
      })),
    )
    await producer.send({ topic, messages })
    await producer.disconnect()

    // Wire format: magic 0 + the id the registry gave, same id for every record of a subject.
    const valueIds = new Set(messages.map((m) => schemaIdOf(m.value)))
    const keyIds = new Set(messages.map((m) => schemaIdOf(m.key)))
    expect(valueIds.size).toBe(1)
    expect(keyIds.size).toBe(1)
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[]
    expect(subjects).toEqual(expect.arrayContaining([`${topic}-key`, `${topic}-value`]))
    const latest = (await (await fetch(`${registry.url}/subjects/${topic}-value/versions/latest`)).json()) as { id: number }
    expect(latest.id).toBe([...valueIds][0])

    // A fresh deserializer (empty cache) finds the writer schema by the id in each message.
    const readKeys = serializers.schemaRegistry<{ key: string }>({ host: registry.url })
    const readValues = serializers.schemaRegistry<UserV1>({ host: registry.url })
    const seen = await consume(topic, users.length)
    const decoded = await Promise.all(
      seen.map(async (p) => ({
        key: (await deserializeOrThrow(readKeys, p.message.key!, ctxOf(topic, 'key'))).key,
        value: await deserializeOrThrow(readValues, p.message.value!, ctxOf(topic, 'value')),
      })),
    )
    decoded.sort((a, b) => a.value.id - b.value.id)
    expect(decoded.map((d) => ({ key: d.key, value: { ...d.value } }))).toEqual(users.map((u) => ({ key: `k${u.id}`, value: u })))
  })

  it('evolves a schema: v1 and v2 records on one topic each decode with their writer schema', async () => {
    const topic = uniqueName('sr-evolve')
    await createTopic(topic, 1)
    const v1 = serializers.schemaRegistry<UserV1>({ host: registry.url, schema: userV1 })
    const v2 = serializers.schemaRegistry<UserV2>({ host: registry.url, schema: JSON.stringify(userV2) })
    const a = await serializeOrThrow(v1, { id: 1, name: 'old' }, ctxOf(topic, 'value'))
    const b = await serializeOrThrow(v2, { id: 2, name: 'new', email: 'n@example.org' }, ctxOf(topic, 'value'))
    expect(schemaIdOf(a)).not.toBe(schemaIdOf(b))

    // Without a schema the serializer uses the subject's latest (v2).
    const latest = serializers.schemaRegistry<UserV2>({ host: registry.url })
    const c = await serializeOrThrow(latest, { id: 3, name: 'latest', email: null }, ctxOf(topic, 'value'))
    expect(schemaIdOf(c)).toBe(schemaIdOf(b))

    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    await producer.send({ topic, messages: [{ value: a }, { value: b }, { value: c }] })
    await producer.disconnect()
    const reader = serializers.schemaRegistry<UserV1 | UserV2>({ host: registry.url })
    const seen = await consume(topic, 3)
    const values = await Promise.all(seen.map(async (p) => ({ ...(await reader.deserialize(p.message.value!, ctxOf(topic, 'value'))) })))
    expect(values).toEqual([{ id: 1, name: 'old' }, { id: 2, name: 'new', email: 'n@example.org' }, { id: 3, name: 'latest', email: null }])
  })

  it('an explicit subject is used as given, and an incompatible schema is refused by the registry', async () => {
    const topic = uniqueName('sr-subject')
    const subject = uniqueName('shared-users')
    const serde = serializers.schemaRegistry<UserV1>({ host: registry.url, subject, schema: userV1 })
    await serializeOrThrow(serde, { id: 1, name: 'x' }, ctxOf(topic, 'value'))
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[]
    expect(subjects).toContain(subject)
    expect(subjects).not.toContain(`${topic}-value`)

    const incompatible = serializers.schemaRegistry<{ id: string }>({
      host: registry.url,
      subject,
      schema: { type: 'record', name: 'User', namespace: 'kafkatune.test', fields: [{ name: 'id', type: 'string' }] },
    })
    const err = await Promise.resolve(serializeOrThrow(incompatible, { id: 'a' }, ctxOf(topic, 'value'))).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KafkatuneError)
    expect((err as KafkatuneError).code).toBe('SERIALIZATION')
    expect((err as KafkatuneError).message).toMatch(new RegExp(`value serializer "schemaRegistry" failed for topic "${topic}": .*ncompatible`))
  })

  it('a value that does not match the schema is a SERIALIZATION error naming topic, part and field', async () => {
    const topic = uniqueName('sr-invalid')
    const serde = serializers.schemaRegistry<UserV1>({ host: registry.url, schema: userV1 })
    const err = await Promise.resolve(serializeOrThrow(serde, { id: 'one' as unknown as number, name: 'x' }, ctxOf(topic, 'value'))).catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'SERIALIZATION', details: { topic, part: 'value', serializer: 'schemaRegistry' } })
    expect((err as Error).message).toMatch(/id/)
  })

  it('an unknown schema id is a DESERIALIZATION error', async () => {
    const serde: Serializer<unknown> = serializers.schemaRegistry({ host: registry.url })
    const bogus = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 0x61])
    await expect(Promise.resolve(deserializeOrThrow(serde, bogus, ctxOf('t', 'value'), { partition: 0, offset: '5' }))).rejects.toMatchObject({
      code: 'DESERIALIZATION',
      details: { topic: 't', partition: 0, offset: '5' },
    })
  })

  it('a registry that is down makes serialize fail with SERIALIZATION, and a later call retries', async () => {
    const dead = serializers.schemaRegistry<UserV1>({ host: 'http://127.0.0.1:9/apis/ccompat/v7', schema: userV1 })
    await expect(Promise.resolve(serializeOrThrow(dead, { id: 1, name: 'x' }, ctxOf('t', 'value')))).rejects.toMatchObject({ code: 'SERIALIZATION' })
    await expect(Promise.resolve(serializeOrThrow(dead, { id: 1, name: 'x' }, ctxOf('t', 'value')))).rejects.toMatchObject({ code: 'SERIALIZATION' })
  })
})
