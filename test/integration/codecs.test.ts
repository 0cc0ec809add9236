/**
 * Compression codecs against the real broker: kafkajs + our codecs produce and consume every codec, the
 * Java client (console tools from the harness jars) reads what we wrote, and we read what it wrote (xerial
 * snappy framing, Kafka LZ4 frames, zstd-jni streams).
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import type { Consumer, Kafka } from 'kafkajs'
import { registerCodecs } from '../../src/codecs/index.js'
import { isXerialFramed, xerialBlocks } from '../../src/codecs/snappy.js'
import type { KafkaCodec } from '../../src/codecs/index.js'
import { ensureKafkaJars, javaExecutable } from '../../src/testing/jars.js'
import { brokers, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

const { CompressionCodecs, CompressionTypes } = kafkajs
const CODECS = [
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
] as const
type Name = (typeof CODECS)[number][0]

const RECORDS = 1000
/** Compressible lines of about 200 bytes: several 32 KiB xerial chunks per Java batch. */
const line = (who: string, codec: string, i: number): string =>
  `${who}-${codec}-${String(i).padStart(5, '0')} ${JSON.stringify({ i, codec, text: 'lorem ipsum dolor sit amet '.repeat(6) })}`

let kafka: Kafka
let libs: string
const consumers: Consumer[] = []
/** Counts compress/decompress calls per codec type, to prove kafkajs went through our codecs. */
const calls = new Map<number, { compress: number; decompress: number }>()
/** Xerial-framed snappy inputs seen, and the most chunks in one of them. */
const xerial = { batches: 0, maxChunks: 0 }

beforeAll(async () => {
  expect(registerCodecs()).toEqual(['gzip', 'snappy', 'lz4', 'zstd'])
  const registry = CompressionCodecs as Record<number, () => KafkaCodec>
  for (const [, type] of CODECS) {
    const inner = registry[type]!()
    const counter = { compress: 0, decompress: 0 }
    calls.set(type, counter)
    const spied: KafkaCodec = {
      compress: async (e) => {
        counter.compress++
        return await inner.compress(e)
      },
      decompress: async (b) => {
        counter.decompress++
        if (type === CompressionTypes.Snappy && isXerialFramed(b)) {
          xerial.batches++
          xerial.maxChunks = Math.max(xerial.maxChunks, xerialBlocks(b).length)
        }
        return await inner.decompress(b)
      },
    }
    registry[type] = () => spied
  }
  kafka = testKafka('codecs')
  libs = await ensureKafkaJars()
})

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)))
})

/**
 * Creates topics in one request and polls metadata until every partition has a leader. (kafkajs'
 * `waitForLeaders` can fail with UNKNOWN_TOPIC_OR_PARTITION right after creation, seen here on Kafka 4.1.)
 */
async function createTopics(names: string[], partitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })), waitForLeaders: false })
    await waitFor(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: names })
      return meta.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))
    }, 30_000)
  } finally {
    await admin.disconnect()
  }
}

async function consumeLines(topics: string[], count: number): Promise<Map<string, string[]>> {
  const consumer = kafka.consumer({ groupId: uniqueName('codecs'), maxWaitTimeInMs: 200 })
  consumers.push(consumer)
  const byTopic = new Map<string, string[]>(topics.map((t) => [t, []]))
  let seen = 0
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      byTopic.get(topic)!.push(message.value!.toString('utf8'))
      seen++
    },
  })
  await waitFor(() => seen >= count, 90_000)
  await consumer.disconnect()
  return byTopic
}

/** Runs a Java tool from the harness jars; resolves with its stdout, rejects with its stderr tail. */
function java(mainClass: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(javaExecutable(), ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${libs}/*`, mainClass, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited ${code}:\n${err}`))))
    child.stdin.end(stdin ?? '')
  })
}

describe('compression codecs on the real broker', () => {
  const topics = new Map<Name, string>()

  it('kafkajs produces and consumes every codec through our codecs', async () => {
    for (const [name] of CODECS) topics.set(name, uniqueName(`codec-js-${name}`))
    await createTopics([...topics.values()], 2)
    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    for (const [name, type] of CODECS) {
      const topic = topics.get(name)!
      // Several sends per codec, so batches of different sizes (both sync and async native paths) are used.
      for (let start = 0; start < RECORDS; start += 250) {
        const messages = Array.from({ length: 250 }, (_, j) => ({ key: `k${start + j}`, value: line('js', name, start + j) }))
        await producer.send({ topic, compression: type, messages })
      }
    }
    await producer.disconnect()
    const byTopic = await consumeLines([...topics.values()], RECORDS * CODECS.length)
    for (const [name, type] of CODECS) {
      const got = byTopic.get(topics.get(name)!)!.sort()
      expect(got).toEqual(Array.from({ length: RECORDS }, (_, i) => line('js', name, i)))
      expect(calls.get(type)!.compress).toBeGreaterThanOrEqual(4)
      expect(calls.get(type)!.decompress).toBeGreaterThanOrEqual(1)
    }
  })

  it('the Java consumer reads what kafkajs wrote with every codec', async () => {
    expect(topics.size).toBe(CODECS.length)
    const out = await java('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server',
      brokers().join(','),
      '--include',
      [...topics.values()].join('|'),
      '--from-beginning',
      '--max-messages',
      String(RECORDS * CODECS.length),
      '--timeout-ms',
      '60000',
      '--group',
      uniqueName('codecs-java'),
    ])
    const lines = out.split('\n').filter((l) => l.startsWith('js-'))
    expect(lines).toHaveLength(RECORDS * CODECS.length)
    for (const [name] of CODECS) {
      expect(lines.filter((l) => l.startsWith(`js-${name}-`)).sort()).toEqual(Array.from({ length: RECORDS }, (_, i) => line('js', name, i)))
    }
  })

  it('kafkajs reads what the Java producer wrote with every codec (xerial snappy, Kafka LZ4, zstd-jni)', async () => {
    const javaTopics = new Map<Name, string>()
    for (const [name] of CODECS) javaTopics.set(name, uniqueName(`codec-java-${name}`))
    await createTopics([...javaTopics.values()], 1)
    const before = new Map([...calls].map(([t, c]) => [t, c.decompress]))
    // One JVM per codec, two at a time (two cores shared with the broker).
    const run = (name: Name): Promise<string> =>
      java(
        'org.apache.kafka.tools.ConsoleProducer',
        [
          '--bootstrap-server',
          brokers().join(','),
          '--topic',
          javaTopics.get(name)!,
          '--compression-codec',
          name,
          '--producer-property',
          'linger.ms=50',
          '--producer-property',
          'batch.size=262144',
        ],
        Array.from({ length: RECORDS }, (_, i) => line('java', name, i)).join('\n') + '\n',
      )
    await Promise.all([run('gzip'), run('snappy')])
    await Promise.all([run('lz4'), run('zstd')])
    const byTopic = await consumeLines([...javaTopics.values()], RECORDS * CODECS.length)
    for (const [name, type] of CODECS) {
      expect(byTopic.get(javaTopics.get(name)!)).toEqual(Array.from({ length: RECORDS }, (_, i) => line('java', name, i)))
      expect(calls.get(type)!.decompress).toBeGreaterThan(before.get(type)!)
    }
    // snappy-java frames its output (xerial), in 32 KiB chunks: batches of ~200 KiB give several.
    expect(xerial.batches).toBeGreaterThan(0)
    expect(xerial.maxChunks).toBeGreaterThan(1)
  })
})
