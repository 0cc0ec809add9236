/**
 * Repeated header names through a real broker: a kafkatune producer writes a name once per array element,
 * and both kafkajs and the Java client read every value back, in order.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Consumer } from 'kafkajs'
import { createProducer } from '../../src/producer/index.js'
import { quietLogger } from '../fixtures/consumer-helpers.js'
import { runJava } from '../helpers/java.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

const readers: Consumer[] = []
afterAll(async () => {
  await Promise.allSettled(readers.map((c) => c.disconnect()))
})

describe('producer headers with repeated names', () => {
  const topic = uniqueName('headers')

  it('kafkajs reads every value of a repeated header, in order, with each codec', async () => {
    await createTopic(topic, 1)
    for (const compression of ['none', 'zstd'] as const) {
      const producer = createProducer({ brokers: brokers(), logger: quietLogger(), compression })
      await producer.connect()
      try {
        await producer.send({ topic, key: compression, value: 'v', headers: { trace: ['t1', Buffer.from('t2'), 't3'], single: 's' } })
      } finally {
        await producer.disconnect()
      }
    }
    const consumer = testKafka().consumer({ groupId: uniqueName('headers-reader'), maxWaitTimeInMs: 200 })
    readers.push(consumer)
    const seen: { key: string; headers: Record<string, unknown> }[] = []
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void seen.push({ key: String(message.key), headers: message.headers ?? {} }) })
    await waitFor(() => seen.length >= 2, 30_000, 100)
    expect(seen.map((s) => s.key)).toEqual(['none', 'zstd'])
    for (const s of seen) {
      expect((s.headers.trace as Buffer[]).map(String)).toEqual(['t1', 't2', 't3'])
      expect(String(s.headers.single)).toBe('s')
    }
  })

  it('the Java console consumer prints each repeated header', async () => {
    const out = await runJava('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server',
      brokers().join(','),
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '2',
      '--timeout-ms',
      '60000',
      '--property',
      'print.headers=true',
      '--group',
      uniqueName('headers-java'),
    ])
    const lines = out.trim().split('\n')
    expect(lines).toHaveLength(2)
    for (const line of lines) expect(line).toContain('trace:t1,trace:t2,trace:t3,single:s')
  }, 90_000)
})
