/**
 * A transaction in which the broker refuses one batch outright (larger than the topic's max.message.bytes)
 * while later batches of the same partition are already on the wire: the later batches take the refused
 * batch's sequence numbers (as the Java client's TransactionManager renumbers them), so the partition's
 * sequence has no gap, and the next transaction of the same producer commits without a reset.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Consumer } from 'kafkajs'
import { pino } from 'pino'
import { KafkatuneError } from '../../src/errors.js'
import { createProducer } from '../../src/producer/index.js'
import type { Producer, RecordMetadata } from '../../src/producer/index.js'
import { brokers, createTopic, readCommittedValues, testKafka, uniqueName } from '../helpers/kafka.js'

const open: Producer<string, string>[] = []
const consumers: Consumer[] = []
afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined)
  await Promise.all(open.map((p) => p.disconnect().catch(() => undefined)))
})

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('a batch refused inside a transaction (real broker)', () => {
  it('later in-flight batches take its sequence numbers; the transaction aborts and the next one commits without a reset', async () => {
    const topic = uniqueName('tx-refused')
    await createTopic(topic, 1, { 'max.message.bytes': '2000' })
    // No linger, and a request too small to merge the large batch with the ones after it: each goes on its own.
    const p = createProducer<string, string>({ brokers: brokers(), logger: pino({ level: 'silent' }), preset: 'exactly-once', transactionalId: uniqueName('tx-refused'), lingerMs: 0, maxRequestSize: 4000 })
    open.push(p)
    const answers: string[] = []
    const resets: string[] = []
    p.on('producer.request', (info) => answers.push(info.error === undefined ? 'ok' : String(info.error.details.kafkaError)))
    p.on('producer.reset', ({ reason }) => resets.push(reason))
    await p.connect()

    let big: unknown = null
    let later: PromiseSettledResult<RecordMetadata>[] = []
    const first = p.transaction(async (tx) => {
      // The broker holds this producer's state for the partition once a first batch was written.
      await tx.send({ topic, partition: 0, value: 'warm-up' })
      const refused = tx.send({ topic, partition: 0, value: 'x'.repeat(3000) }).catch((err: unknown) => (big = err))
      const sends: Promise<RecordMetadata>[] = []
      for (let i = 0; i < 3; i++) {
        await tick()
        sends.push(tx.send({ topic, partition: 0, value: `aborted-${i}` }))
      }
      await refused
      later = await Promise.allSettled(sends)
    })
    await expect(first).rejects.toMatchObject({ code: 'TRANSACTION_ABORTED' })
    expect(big).toBeInstanceOf(KafkatuneError)
    expect((big as KafkatuneError).code).toBe('RECORD_TOO_LARGE')
    // A later batch was on the wire with the sequence after the refused one: the broker answered it
    // OUT_OF_ORDER_SEQUENCE_NUMBER, and it went again with the refused batch's sequence and was written.
    expect(answers).toContain('OUT_OF_ORDER_SEQUENCE_NUMBER')
    expect(later.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled'])

    const committed = Array.from({ length: 20 }, (_, i) => `committed-${i}`)
    await p.transaction(async (tx) => {
      await Promise.all(committed.map((value) => tx.send({ topic, partition: 0, value })))
    })
    expect(resets).toEqual([])
    expect(await readCommittedValues(testKafka(), consumers, topic, committed.length, 60_000)).toEqual(committed)
  })
})
