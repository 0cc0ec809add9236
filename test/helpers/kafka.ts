/**
 * Shared helpers for integration tests: the one broker started by `test/integration/global-setup.ts`,
 * unique names, topic creation and polling without fixed sleeps.
 */
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs'
import type { Consumer, ITopicConfig } from 'kafkajs'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers of the shared integration broker (`host:port`). */
    kafkaBrokers: string[]
  }
}

/** Bootstrap servers of the shared broker (from globalSetup, else env `KAFKA_BROKERS`). */
export function brokers(): string[] {
  let provided: string[] | undefined
  try {
    provided = inject('kafkaBrokers')
  } catch {
    provided = undefined
  }
  if (provided !== undefined && provided.length > 0) return [...provided]
  const env = process.env.KAFKA_BROKERS
  if (env !== undefined && env.trim() !== '') {
    return env
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  }
  throw new Error(
    'No Kafka broker for integration tests: run them through the vitest "integration" project (its globalSetup starts one) or set KAFKA_BROKERS',
  )
}

/** A name unique to this call, e.g. `uniqueName('orders')` -> `orders-1732491234567-a1b2c3`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`
}

/** A plain kafkajs client on the shared broker (quiet logs); callers connect/disconnect what they create. */
export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING })
}

/**
 * Create a topic on the shared broker and wait until every partition has a leader.
 * `config` is topic-level config, e.g. `{ 'min.insync.replicas': '1' }`.
 */
export async function createTopic(
  name: string,
  partitions = 1,
  config: Record<string, string> = {},
  replicationFactor = 1,
): Promise<void> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    const topic: ITopicConfig = {
      topic: name,
      numPartitions: partitions,
      replicationFactor,
      configEntries: Object.entries(config).map(([n, value]) => ({ name: n, value })),
    }
    // Not `waitForLeaders: true`: on KRaft the answering broker may not have the new topic in its metadata
    // yet, and kafkajs 2.2.4 then fails createTopics with UNKNOWN_TOPIC_OR_PARTITION instead of retrying.
    await admin.createTopics({ topics: [topic], waitForLeaders: false })
    await waitFor(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [name] })
      const parts = meta.topics[0]?.partitions ?? []
      return parts.length === partitions && parts.every((p) => p.leader >= 0)
    }, 30_000)
  } finally {
    await admin.disconnect()
  }
}

/**
 * Poll `predicate` (every 50 ms) until it returns true; rejects after `timeoutMs` with the last error seen.
 * Use it instead of fixed sleeps.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await predicate()) return
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms`, lastError === undefined ? undefined : { cause: lastError })
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** The values of some broker settings of node `nodeId` as the broker reports them (describeConfigs). */
export async function brokerSettings(brokerList: string[], nodeId: number, names: string[]): Promise<Record<string, string>> {
  const admin = new Kafka({ brokers: brokerList, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const res = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(nodeId), configNames: names }],
      includeSynonyms: false,
    })
    return Object.fromEntries((res.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]))
  } finally {
    await admin.disconnect()
  }
}

/**
 * The values of `topic` read from the beginning with isolation read_committed by a new group, once `expected`
 * arrived and 1.5 s more passed (a duplicate would arrive after the count). The consumer goes into `track`,
 * for the caller's afterEach to disconnect.
 */
export async function readCommittedValues(kafka: Kafka, track: Consumer[], topic: string, expected: number, timeoutMs: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: false, maxWaitTimeInMs: 200 })
  track.push(consumer)
  const values: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') })
  await waitFor(() => values.length >= expected, timeoutMs, 100)
  await new Promise((r) => setTimeout(r, 1500))
  return values
}
