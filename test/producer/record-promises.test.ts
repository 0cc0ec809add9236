import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KafkatuneError } from '../../src/errors.js'
import { OwnPromise, SettleGroup, rejectedSend } from '../../src/producer/record-promises.js'
import type { SinkTarget } from '../../src/producer/record-promises.js'
import type { RecordMetadata } from '../../src/producer/types.js'

const md = (offset: number): RecordMetadata => ({ topic: 't', partition: 0, offset: String(offset), timestamp: '1' })
const target = (): SinkTarget => ({ sink: null, index: -1 })

describe('SettleGroup', () => {
  it('gives each record its own outcome, whatever the order records are settled in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 1_000_000 }), async (fails, seed) => {
        const group = new SettleGroup()
        const targets = fails.map(() => target())
        const promises = targets.map((t) => group.add(t))
        expect(targets.map((t) => t.index)).toEqual(fails.map((_, i) => i))
        // Settle in a shuffled order: outcomes are kept by index, not by settle order.
        const order = fails.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101))
        for (const i of order) group.settle(i, fails[i] ? null : md(i), fails[i] ? new KafkatuneError('KAFKA', `record ${i}`) : null)
        expect(group.open).toBe(false)
        const results = await Promise.allSettled(promises)
        results.forEach((r, i) => {
          if (fails[i]) expect(r.status === 'rejected' && (r.reason as Error).message).toBe(`record ${i}`)
          else expect(r.status === 'fulfilled' && r.value.offset).toBe(String(i))
        })
      }),
    )
  })

  it('resolves nothing until every added record is settled', async () => {
    const group = new SettleGroup()
    let resolved = 0
    const a = group.add(target())
    group.add(target()).then(() => resolved++)
    void a.then(() => resolved++)
    group.settle(0, md(0), null)
    await new Promise((r) => setImmediate(r))
    expect(resolved).toBe(0)
    expect(group.open).toBe(true)
    group.settle(1, md(1), null)
    await new Promise((r) => setImmediate(r))
    expect(resolved).toBe(2)
  })

  it('a failed record nobody awaits is no unhandled rejection', async () => {
    const seen: unknown[] = []
    const onUnhandled = (reason: unknown): void => void seen.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const group = new SettleGroup()
      group.add(target())
      group.settle(0, null, new KafkatuneError('KAFKA', 'lost'))
      const own = new OwnPromise(target())
      own.settle(0, null, new KafkatuneError('KAFKA', 'lost too'))
      rejectedSend(new KafkatuneError('KAFKA', 'refused'))
      await new Promise((r) => setTimeout(r, 20))
      expect(seen).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('OwnPromise', () => {
  it('takes over the target and resolves with its outcome', async () => {
    const t = target()
    const own = new OwnPromise(t)
    expect(t.sink).toBe(own)
    expect(t.index).toBe(0)
    own.settle(0, md(5), null)
    await expect(own.promise).resolves.toEqual(md(5))
  })
})
