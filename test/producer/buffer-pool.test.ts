import { describe, expect, it, vi } from 'vitest'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { KafkatuneError } from '../../src/errors.js'

describe('BufferPool', () => {
  it('grants synchronously while there is room', () => {
    const pool = new BufferPool(100, 1000)
    expect(pool.tryReserve(60)).toBe(true)
    expect(pool.tryReserve(60)).toBe(false)
    expect(pool.inUse).toBe(60)
  })

  it('waiters are served in order when space is released', async () => {
    const pool = new BufferPool(100, 60_000)
    pool.tryReserve(100)
    const order: number[] = []
    const a = pool.reserve(50).then(() => order.push(1))
    const b = pool.reserve(50).then(() => order.push(2))
    expect(pool.exhausted).toBe(true)
    // A small request must not jump the queue.
    expect(pool.tryReserve(1)).toBe(false)
    pool.release(100)
    await Promise.all([a, b])
    expect(order).toEqual([1, 2])
    expect(pool.inUse).toBe(100)
  })

  it('rejects with BUFFER_EXHAUSTED after maxBlockMs', async () => {
    vi.useFakeTimers()
    try {
      const pool = new BufferPool(10, 500)
      pool.tryReserve(10)
      const p = pool.reserve(5)
      const assertion = expect(p).rejects.toSatisfy((e: unknown) => e instanceof KafkatuneError && e.code === 'BUFFER_EXHAUSTED' && e.retriable)
      await vi.advanceTimersByTimeAsync(500)
      await assertion
      expect(pool.exhausted).toBe(false)
    } finally {
      vi.useRealTimers()
    }
  })
})
