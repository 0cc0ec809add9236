/** Every line a producer, consumer and pipeline write carries the same fields (pino at trace, real broker). */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createConsumer } from '../../src/consumer/index.js'
import { createPipeline } from '../../src/pipeline/index.js'
import { createProducer } from '../../src/producer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'

const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }

describe('log fields', () => {
  it('component and clientId on every line, groupId on every consumer and pipeline line (its producers\' too), topic with every partition', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'trace' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), done()) }))
    const [input, output] = [uniqueName('fields-in'), uniqueName('fields-out')]
    await createTopic(input, 2)
    await createTopic(output, 1)
    const producer = createProducer({ brokers: brokers(), logger, clientId: 'fields-producer' })
    await producer.connect()
    await Promise.all(['a', 'fail-once', 'c'].map((value, i) => producer.send({ topic: input, value, partition: i % 2 })))
    await producer.disconnect()

    const groupId = uniqueName('fields-g')
    const consumer = createConsumer({ brokers: brokers(), logger, clientId: 'fields-consumer', groupId, topics: [input], autoOffsetReset: 'earliest', retry: { attempts: 2, backoffMs: 10 }, ...fast })
    let failed = false
    let handled = 0
    await consumer.connect()
    await consumer.run({
      eachMessage: async ({ value }) => {
        if (value === 'fail-once' && !failed) {
          failed = true
          throw new Error('transient')
        }
        handled++
      },
    })
    await waitFor(() => handled === 3, 30_000)
    await consumer.disconnect()

    const pipelineGroup = uniqueName('fields-p')
    const pipeline = createPipeline({ brokers: brokers(), logger, clientId: 'fields-pipeline', groupId: pipelineGroup, from: input, to: output, transactionalIdPrefix: uniqueName('fields-tx'), consumer: { autoOffsetReset: 'earliest', ...fast }, transform: async (m) => ({ value: m.value ?? '' }) })
    await pipeline.run()
    try {
      await waitFor(() => pipeline.metrics().outputRecords === 3, 30_000)
    } finally {
      await pipeline.stop()
    }

    expect(lines.length).toBeGreaterThan(50)
    for (const line of lines) {
      expect(line.component, JSON.stringify(line)).toMatch(/^(kafkajs|kafkatune\.(producer|consumer|pipeline))$/)
      expect(['fields-producer', 'fields-consumer', 'fields-pipeline'], JSON.stringify(line)).toContain(line.clientId)
      if (line.clientId === 'fields-consumer') expect(line.groupId, JSON.stringify(line)).toBe(groupId)
      // Every pipeline line: its own, its consumer's, its transactional producers' and all their kafkajs clients'.
      if (line.clientId === 'fields-pipeline') expect(line.groupId, JSON.stringify(line)).toBe(pipelineGroup)
      if (typeof line.partition === 'number' && line.component !== 'kafkajs') expect(typeof line.topic, JSON.stringify(line)).toBe('string')
    }
    // The lines this run must have made, with their fields.
    expect(lines.find((l) => l.msg === 'handler failed, retrying')).toMatchObject({ component: 'kafkatune.consumer', clientId: 'fields-consumer', groupId, topic: input, partition: 1 })
    expect(lines.filter((l) => l.msg === 'joined the group').map((l) => l.component).sort()).toEqual(['kafkatune.consumer', 'kafkatune.pipeline'])
    expect(lines.some((l) => l.component === 'kafkajs' && l.clientId === 'fields-producer')).toBe(true)
    // The pipeline's transactional producers did log (kafkajs's line once each got its producer id), with the groupId.
    const producerLines = lines.filter((l) => l.clientId === 'fields-pipeline' && l.msg === 'Initialized producer id & epoch')
    expect(producerLines.length).toBeGreaterThan(0)
    expect(producerLines.filter((l) => l.groupId !== pipelineGroup)).toEqual([])
  })
})
