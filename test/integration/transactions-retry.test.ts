/**
 * Back-to-back transactions against the real broker: right after EndTxn the coordinator answers the next
 * transaction's first AddPartitionsToTxn with CONCURRENT_TRANSACTIONS until its markers are written. The
 * producer retries that one case after the Java client's fixed 20 ms (not retryBackoffMs), every
 * transaction still commits, and a Java read_committed consumer sees exactly the committed records.
 * Assertions are on counts and on the back-off each retry chose, never on elapsed time.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { createProducer } from '../../src/producer/index.js'
import type { Producer } from '../../src/producer/index.js'
import { brokers, createTopic, testKafka, uniqueName } from '../helpers/kafka.js'
import { runJava } from '../helpers/java.js'

interface RetryLog {
  msg: string
  request: string
  kafkaError: string
  backoffMs: number
  firstInTransaction: boolean
}

const open: Producer<string, string>[] = []
afterAll(async () => {
  await Promise.all(open.map((p) => p.disconnect().catch(() => undefined)))
})

describe('back-to-back transactions (real broker)', () => {
  it('CONCURRENT_TRANSACTIONS on a first AddPartitionsToTxn is retried after 20 ms; every commit lands, read_committed by the Java consumer', async () => {
    const topic = uniqueName('tx-b2b')
    const partitions = 6
    await createTopic(topic, partitions)
    const retries: RetryLog[] = []
    const requests = new Map<string, number>()
    let lookups = 0
    let lookupsAfterWarmUp = -1
    // Debug logs carry each retry and the back-off it chose, and kafkajs's line for each request it sends.
    const logger = pino({ level: 'debug' }, {
      write(line: string) {
        const entry = JSON.parse(line) as RetryLog
        if (entry.msg === 'kafkatune: transaction request retried') retries.push(entry)
        const request = /^Request (\w+)\(/.exec(entry.msg ?? '')?.[1]
        if (request !== undefined) requests.set(request, (requests.get(request) ?? 0) + 1)
        // A lookup answered GROUP_COORDINATOR_NOT_AVAILABLE (a fresh broker still creating its internal topics) is repeated by kafkajs: count the answered ones.
        if (/^Response GroupCoordinator\(/.test(entry.msg ?? '') && (entry as unknown as { error?: unknown }).error === undefined) lookups++
      },
    })
    // A retryBackoffMs far from 20 ms, so the back-off of each retry says which rule chose it.
    const retryBackoffMs = 300
    const p = createProducer<string, string>({ brokers: brokers(), logger, preset: 'exactly-once', transactionalId: uniqueName('tx-b2b'), retryBackoffMs })
    open.push(p)
    await p.connect()

    const committed: string[] = []
    const groupId = uniqueName('tx-b2b-group')
    let transactions = 0
    let withOffsets = 0
    const concurrent = (): number => retries.filter((r) => r.kafkaError === 'CONCURRENT_TRANSACTIONS').length
    // Each transaction writes to every partition and commits at once; the next one starts right after
    // EndTxn, while the markers may still be in flight. Stop once enough retries were seen (or 150 ran).
    while (transactions < 150 && (transactions < 20 || concurrent() < 3)) {
      const t = transactions++
      // A new group's coordinator is still loading on the first offsets commits (NOT_COORDINATOR, looked up again).
      if (t === 6) lookupsAfterWarmUp = lookups
      const values = Array.from({ length: partitions * 2 }, (_, i) => `t${t}-${i}`)
      await p.transaction(async (tx) => {
        await Promise.all(values.map((value, i) => tx.send({ topic, partition: i % partitions, value })))
        // Every other transaction also commits consumer offsets (AddOffsetsToTxn + TxnOffsetCommit), as a pipeline does.
        if (t % 2 === 1) await tx.sendOffsets({ consumerGroupId: groupId, offsets: [{ topic, partition: 0, offset: String(t) }] })
      })
      if (t % 2 === 1) withOffsets++
      committed.push(...values)
      if (t === 10) {
        // An aborted transaction in the middle: its records must never be read.
        await expect(
          p.transaction(async (tx) => {
            await Promise.all(Array.from({ length: partitions }, (_, i) => tx.send({ topic, partition: i, value: `aborted-${i}` })))
            throw new Error('abort on purpose')
          }),
        ).rejects.toThrow('abort on purpose')
      }
    }

    // The broker did answer CONCURRENT_TRANSACTIONS, and the producer retried instead of failing.
    expect(concurrent()).toBeGreaterThan(0)
    for (const r of retries) {
      expect(r.request).toBe('AddPartitionsToTxn')
      // The Java client's rule: 20 ms only while no partition of the transaction is added yet.
      const expected = r.kafkaError === 'CONCURRENT_TRANSACTIONS' && r.firstInTransaction ? 20 : retryBackoffMs
      expect(r.backoffMs).toBe(expected)
    }
    expect(retries.filter((r) => r.firstInTransaction && r.kafkaError === 'CONCURRENT_TRANSACTIONS').length).toBeGreaterThan(0)
    // Each retry is counted in metrics().retries (no produce request was retried in this run; an offsets
    // request answered CONCURRENT_TRANSACTIONS would be counted there too, without this log line).
    expect(p.metrics().retries).toBeGreaterThanOrEqual(retries.length)
    // The transaction and group coordinators are looked up once, not before every AddPartitionsToTxn, EndTxn,
    // AddOffsetsToTxn and TxnOffsetCommit (kafkajs's eos manager alone would send two or three FindCoordinator
    // per transaction); each transaction adds its partitions in about one request (its first records go out in
    // one tick), plus the retries.
    const all = transactions + 1
    expect(withOffsets).toBeGreaterThan(5)
    // Once per transaction with offsets; a new group's first TxnOffsetCommit may be retried (coordinator loading).
    for (const r of ['AddOffsetsToTxn', 'TxnOffsetCommit']) {
      expect(requests.get(r)).toBeGreaterThanOrEqual(withOffsets)
      expect(requests.get(r)).toBeLessThanOrEqual(withOffsets + 2)
    }
    expect(lookupsAfterWarmUp).toBeGreaterThan(0)
    expect(lookups).toBe(lookupsAfterWarmUp)
    expect(requests.get('EndTxn')).toBe(all)
    expect(requests.get('AddPartitionsToTxn')).toBeGreaterThanOrEqual(all + retries.length)
    expect(requests.get('AddPartitionsToTxn')).toBeLessThanOrEqual(all + retries.length + 3)
    await p.disconnect()

    // Java's console consumer, read_committed: exactly the committed records, none of the aborted ones.
    const out = await runJava('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server', brokers().join(','),
      '--topic', topic,
      '--from-beginning', '--max-messages', String(committed.length), '--timeout-ms', '60000',
      '--group', uniqueName('tx-b2b-java'),
      '--consumer-property', 'isolation.level=read_committed',
    ])
    const read = out.split('\n').filter((l) => l !== '')
    expect(read.filter((v) => v.startsWith('aborted'))).toEqual([])
    expect(read.length).toBe(committed.length)
    expect(new Set(read).size).toBe(committed.length)
    expect([...read].sort()).toEqual([...committed].sort())
    // The last transaction with offsets committed them.
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
      expect(offsets[0]?.partitions.find((x) => x.partition === 0)?.offset).toBe(String(transactions % 2 === 0 ? transactions - 1 : transactions - 2))
    } finally {
      await admin.disconnect()
    }
  }, 180_000)
})
