/**
 * The pipeline's producer pool against fake producers (connect and disconnect are scripted): which input
 * partitions hold a producer, how many are open, and that closing waits for producers being closed.
 */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveProducerConfig } from '../../src/config/index.js'
import { withMetricsSources } from '../../src/observability/metrics-source.js'
import { ProducerPool } from '../../src/pipeline/producer-pool.js'
import type { ProducerFactory } from '../../src/pipeline/producer-pool.js'
import type { Producer } from '../../src/producer/types.js'

function setup(prefix: string | null, opts: { failConnect?: (id: string | null) => boolean; disconnectGate?: Promise<void> } = {}) {
  const created: (string | null)[] = []
  const disconnected: (string | null)[] = []
  const factory: ProducerFactory<string, string> = (settings) => {
    const id = settings.transactionalId
    created.push(id)
    const fake = {
      async connect() {
        if (opts.failConnect?.(id)) throw new Error('no broker')
      },
      async disconnect() {
        if (opts.disconnectGate !== undefined) await opts.disconnectGate
        disconnected.push(id)
      },
      metrics: () => ({ retries: 0 }),
    }
    return withMetricsSources(fake) as unknown as Producer<string, string>
  }
  const settings = resolveProducerConfig({ brokers: ['127.0.0.1:9092'], logger: pino({ level: 'silent' }) })
  const pool = new ProducerPool<string, string>(settings, prefix, 'g', factory)
  return { pool, created, disconnected }
}

describe('ProducerPool', () => {
  it('exactly-once: one producer per input partition; partitions() and size follow get() and drop()', async () => {
    const t = setup('tx')
    await Promise.all([t.pool.get('in', 0), t.pool.get('in', 1), t.pool.get('in', 0), t.pool.get('in-2', 3)])
    expect(t.created).toEqual(['tx-in-0', 'tx-in-1', 'tx-in-2-3'])
    expect(t.pool.partitions()).toEqual([
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 1 },
      { topic: 'in-2', partition: 3 },
    ])
    expect(t.pool.size).toBe(3)

    await t.pool.drop('in', 1)
    await t.pool.drop('in', 1)
    expect(t.disconnected).toEqual(['tx-in-1'])
    expect(t.pool.partitions()).toEqual([
      { topic: 'in', partition: 0 },
      { topic: 'in-2', partition: 3 },
    ])
    expect(t.pool.size).toBe(2)

    // A partition that comes back gets a new producer under the same transactional id.
    await t.pool.get('in', 1)
    expect(t.created).toEqual(['tx-in-0', 'tx-in-1', 'tx-in-2-3', 'tx-in-1'])
    await t.pool.closeAll()
    expect(t.pool.size).toBe(0)
    expect(t.pool.partitions()).toEqual([])
    expect([...t.disconnected].sort()).toEqual(['tx-in-0', 'tx-in-1', 'tx-in-1', 'tx-in-2-3'])
  })

  it('a producer that failed to connect is neither held nor counted', async () => {
    const t = setup('tx', { failConnect: (id) => id === 'tx-in-1' })
    await t.pool.get('in', 0)
    await expect(t.pool.get('in', 1)).rejects.toThrow('no broker')
    expect(t.pool.partitions()).toEqual([{ topic: 'in', partition: 0 }])
    expect(t.pool.size).toBe(1)
  })

  it('without exactly-once: one shared producer, no per-partition producers to release', async () => {
    const t = setup(null)
    const [a, b] = await Promise.all([t.pool.get('in', 0), t.pool.get('in', 1)])
    expect(a).toBe(b)
    expect(t.created).toEqual([null])
    expect(t.pool.partitions()).toEqual([])
    expect(t.pool.size).toBe(1)
  })

  it('closeAll() waits for the producers drop() is still closing', async () => {
    let open = () => {}
    const gate = new Promise<void>((resolve) => {
      open = () => resolve()
    })
    const t = setup('tx', { disconnectGate: gate })
    await t.pool.get('in', 0)
    const dropping = t.pool.drop('in', 0)
    await new Promise((r) => setImmediate(r))
    // No longer held or open, though its disconnect has not finished.
    expect(t.pool.partitions()).toEqual([])
    expect(t.pool.size).toBe(0)
    let closed = false
    const closing = t.pool.closeAll().then(() => (closed = true))
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    expect(closed).toBe(false)
    open()
    await Promise.all([dropping, closing])
    expect(t.disconnected).toEqual(['tx-in-0'])
  })
})
