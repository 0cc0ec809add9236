/**
 * A batch resent after the broker answered its request with a retriable error must go out with its own
 * bytes, whatever other requests were sent in between (request bodies of 64 KiB or more are reused once
 * answered, and an uncompressed or lz4 batch is written straight into its request's body; this gzip batch is
 * over 64 KiB, so it compresses asynchronously into a buffer of its own).
 */
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import type { Consumer } from 'kafkajs'
import { pino } from 'pino'
import { createProducer } from '../../src/index.js'
import type { Producer } from '../../src/index.js'
import { brokers, createTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js'

const quiet = pino({ level: 'silent' })
const kafka = testKafka('resend-test')
const consumers: Consumer[] = []
const producers: Producer<string, string>[] = []

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined)
  for (const p of producers) await p.disconnect().catch(() => undefined)
})

async function readValues(topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('resend'), maxWaitTimeInMs: 100 })
  consumers.push(consumer)
  const seen: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachBatch: async ({ batch }) => void seen.push(...batch.messages.map((m) => m.value?.toString() ?? '<null>')) })
  await waitFor(() => seen.length >= count, 60_000)
  // A little longer: nothing beyond the expected records may arrive.
  await new Promise((r) => setTimeout(r, 500))
  await consumer.disconnect()
  return seen
}

describe('resending a batch after an answered request', () => {
  for (const [compression, idempotent] of [['none', true], ['none', false], ['lz4', true], ['gzip', false]] as const) {
    it(`sends the batch's own records (${compression}, idempotent ${idempotent}) after other requests reused answered bodies`, async () => {
      const held = uniqueName('resend-held')
      const busy = uniqueName('resend-busy')
      await createTopic(held, 1)
      await createTopic(busy, 1)
      const common = { brokers: brokers(), logger: quiet, compression, idempotent, lingerMs: 5, batchSize: 512 * 1024 }
      const heldProducer = createProducer<string, string>({ ...common, retries: 1000, retryBackoffMs: 300, retryBackoffMaxMs: 300, deliveryTimeoutMs: 60_000 })
      const busyProducer = createProducer<string, string>(common)
      producers.push(heldProducer, busyProducer)
      await heldProducer.connect()
      await busyProducer.connect()
      const refusals: string[] = []
      heldProducer.on('producer.request', (info) => {
        if (info.error !== undefined) refusals.push(info.error.message)
      })
      await heldProducer.send({ topic: held, value: 'before' })
      // While the topic is gone the broker answers UNKNOWN_TOPIC_OR_PARTITION (retriable): the batch waits to be resent.
      const admin = kafka.admin()
      await admin.connect()
      try {
        await admin.deleteTopics({ topics: [held] })
        // Random text: a compressed batch of it is still larger than the 64 KiB below which bodies are not reused.
        const pad = () => randomBytes(750).toString('base64')
        const heldValues = Array.from({ length: 150 }, (_, i) => `held-${i}-${pad()}`)
        const heldSends = heldValues.map((value) => heldProducer.send({ topic: held, value }))
        await waitFor(() => heldProducer.metrics().retries > 0, 30_000)
        // Requests of about the same size from another producer in the same process take the answered bodies.
        const busyValues = Array.from({ length: 600 }, (_, i) => `busy-${i}-${pad()}`)
        for (let i = 0; i < busyValues.length; i += 150) {
          await Promise.all(busyValues.slice(i, i + 150).map((value) => busyProducer.send({ topic: busy, value })))
        }
        await admin.createTopics({ topics: [{ topic: held, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })
        const offsets = (await Promise.all(heldSends)).map((md) => Number(md.offset))
        expect(offsets).toEqual(heldValues.map((_, i) => i))
        expect(refusals.some((m) => m.includes('UNKNOWN_TOPIC_OR_PARTITION'))).toBe(true)
        // Resent from a reused body, the batch would be another request's bytes: CORRUPT_MESSAGE, or worse, someone else's records.
        expect(refusals.filter((m) => !m.includes('UNKNOWN_TOPIC_OR_PARTITION') && !m.includes('OUT_OF_ORDER_SEQUENCE'))).toEqual([])
        expect(await readValues(held, heldValues.length)).toEqual(heldValues)
        expect((await readValues(busy, busyValues.length)).length).toBe(busyValues.length)
      } finally {
        await admin.disconnect()
      }
    })
  }
})
