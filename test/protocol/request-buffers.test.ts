import { describe, expect, it } from 'vitest'
import { RequestBuffers } from '../../src/protocol/request-buffers.js'

describe('RequestBuffers', () => {
  it('hands a given-back body to the next request of a similar size, as a view of exactly the size asked', () => {
    const pool = new RequestBuffers()
    const a = pool.take(300_000)
    expect(a.length).toBe(300_000)
    a.fill(7)
    pool.give(a)
    expect(pool.freeCount).toBe(1)
    const b = pool.take(250_000)
    expect(b.length).toBe(250_000)
    expect(b.buffer).toBe(a.buffer)
    expect(b[0]).toBe(7)
    expect(pool.freeCount).toBe(0)
  })

  it('never hands one body to two requests at once, and does not pin a large body for a small request', () => {
    const pool = new RequestBuffers()
    const big = pool.take(1_000_000)
    pool.give(big)
    const small = pool.take(100_000)
    expect(small.buffer).not.toBe(big.buffer)
    const again = pool.take(900_000)
    expect(again.buffer).toBe(big.buffer)
    const other = pool.take(900_000)
    expect(other.buffer).not.toBe(big.buffer)
  })

  it('keeps at most 8 bodies, and none of the small ones Node pools itself', () => {
    const pool = new RequestBuffers()
    const bodies = Array.from({ length: 12 }, () => pool.take(200_000))
    for (const b of bodies) pool.give(b)
    expect(pool.freeCount).toBe(8)
    pool.give(pool.take(1000))
    expect(pool.freeCount).toBe(8)
  })
})
