/**
 * The small integration subset that scripts/node-matrix.mjs runs on every supported Node line: producer (with
 * every native codec), consumer, pipeline and the harness (a secured broker and a TLS client), and no process
 * warning on the way. kafkajs alone prints `TimeoutNegativeWarning` on Node 24+ (kafkajs issue 1751);
 * kafkatune's clients must not.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import { createPipeline } from '../../src/pipeline/index.js'
import { createProducer } from '../../src/producer/index.js'
import { startLocalKafka } from '../../src/testing/index.js'
import type { KafkaHandle } from '../../src/testing/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { bundleFixture } from '../fixtures/child-process.js'
import { quietLogger } from '../fixtures/consumer-helpers.js'

const WARNINGS_CHILD = fileURLToPath(new URL('../fixtures/warnings-child.ts', import.meta.url))

const nodeMajor = Number(process.versions.node.split('.')[0])
const warnings: Error[] = []
process.on('warning', (w) => warnings.push(w))
const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }
const handles: KafkaHandle[] = []

afterAll(async () => {
  await Promise.all(handles.map((h) => h.stop()))
})

/** Runs the warnings fixture in a fresh Node (with --trace-warnings) and returns what it reported and printed. */
async function warningsOf(mode: 'kafkajs' | 'kafkatune'): Promise<{ warnings: string[]; stderr: string }> {
  const topic = uniqueName(`warn-${mode}`)
  await createTopic(topic, 1)
  const script = await bundleFixture(WARNINGS_CHILD)
  const child = spawn(process.execPath, ['--trace-warnings', script, mode, brokers().join(','), topic], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  expect(code, stderr).toBe(0)
  const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { warnings: string[] }
  return { warnings: report.warnings, stderr }
}

describe(`Node ${process.versions.node}`, () => {
  it('kafkajs on its own: TimeoutNegativeWarning on Node 24+ (so the check below can see one), none before', async () => {
    const { warnings: seen } = await warningsOf('kafkajs')
    const negative = seen.filter((w) => w.startsWith('TimeoutNegativeWarning'))
    if (nodeMajor >= 24) expect(negative.length).toBeGreaterThan(0)
    else expect(negative).toEqual([])
  })

  it('kafkatune producer + consumer in a fresh process with --trace-warnings: no warning, nothing on stderr', async () => {
    const { warnings: seen, stderr } = await warningsOf('kafkatune')
    expect(seen).toEqual([])
    expect(stderr).not.toMatch(/Warning/)
  })

  it('kafkatune producer (every codec), consumer and pipeline: records arrive, no process warning', async () => {
    warnings.length = 0
    const [input, output] = [uniqueName('rt-in'), uniqueName('rt-out')]
    await createTopic(input, 2)
    await createTopic(output, 2)
    const logger = quietLogger()
    const sent: string[] = []
    for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const producer = createProducer({ brokers: brokers(), logger, compression, lingerMs: 1 })
      await producer.connect()
      const batch = Array.from({ length: 20 }, (_, i) => `${compression}-${i}`)
      await Promise.all(batch.map((value) => producer.send({ topic: input, key: value, value })))
      sent.push(...batch)
      await producer.disconnect()
    }

    const received: string[] = []
    const consumer = createConsumer({ brokers: brokers(), logger, groupId: uniqueName('rt-g'), topics: [input], autoOffsetReset: 'earliest', ...fast })
    await consumer.connect()
    await consumer.run({ eachMessage: async ({ value }) => void received.push(value ?? '') })
    await waitFor(() => received.length >= sent.length, 60_000)
    await consumer.disconnect()
    expect(received.sort()).toEqual([...sent].sort())

    const pipeline = createPipeline({
      brokers: brokers(),
      logger,
      groupId: uniqueName('rt-p'),
      from: input,
      to: output,
      transactionalIdPrefix: uniqueName('rt-tx'),
      consumer: { autoOffsetReset: 'earliest', ...fast },
      transform: async (m) => ({ key: m.key, value: (m.value ?? '').toUpperCase() }),
    })
    await pipeline.run()
    await waitFor(() => pipeline.metrics().outputRecords >= sent.length, 60_000)
    await pipeline.stop()
    expect(pipeline.metrics().outputRecords).toBe(sent.length)

    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([])
  })

  it('harness: a SASL_SSL broker started here, and a SCRAM + TLS client on this Node', async () => {
    warnings.length = 0
    const kafka = await startLocalKafka({ security: { listeners: ['sasl-ssl'], mechanisms: ['scram-sha-256'] } })
    handles.push(kafka)
    const producer = createProducer({ ...kafka.security!.connection('sasl-ssl', 'scram-sha-256'), logger: quietLogger() })
    await producer.connect()
    const meta = await producer.send({ topic: uniqueName('rt-tls'), value: 'over TLS' })
    await producer.disconnect()
    expect(meta.offset).toBe('0')
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([])
  })
})
