import { describe, expect, it } from 'vitest'
import { HandlerGuard } from '../../src/consumer/guards.js'

function setup(maxPollIntervalMs = 1000) {
  let now = 0
  const beats: number[] = []
  const exceeded: number[] = []
  const errors: unknown[] = []
  let failNext = false
  const guard = new HandlerGuard({
    heartbeatIntervalMs: 100,
    maxPollIntervalMs,
    heartbeat: async () => {
      beats.push(now)
      if (failNext) throw Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' })
    },
    onHeartbeatError: (e) => void errors.push(e),
    onExceeded: (ms) => void exceeded.push(ms),
    now: () => now,
  })
  return {
    guard,
    beats,
    exceeded,
    errors,
    advance: async (ms: number) => {
      now += ms
      guard.tick()
      await Promise.resolve()
      await Promise.resolve()
    },
    failHeartbeats: () => (failNext = true),
  }
}

describe('HandlerGuard', () => {
  it('heartbeats while a handler runs and reports nothing within maxPollIntervalMs', async () => {
    const t = setup()
    t.guard.enter()
    for (let i = 0; i < 9; i++) await t.advance(100)
    expect(t.beats.length).toBe(9)
    expect(t.exceeded).toEqual([])
    expect(t.guard.leave()).toBe(900)
  })

  it('stops heartbeating and reports once when one handler call outlives maxPollIntervalMs', async () => {
    const t = setup(1000)
    t.guard.enter()
    for (let i = 0; i < 10; i++) await t.advance(100)
    const beatsBefore = t.beats.length
    await t.advance(100)
    await t.advance(100)
    expect(t.exceeded).toEqual([1100])
    expect(t.guard.exceeded).toBe(true)
    expect(t.beats.length).toBe(beatsBefore)
  })

  it('measures each handler call apart: time between calls (back-off) does not count', async () => {
    const t = setup(1000)
    for (let call = 0; call < 3; call++) {
      t.guard.enter()
      for (let i = 0; i < 8; i++) await t.advance(100)
      t.guard.leave()
      await t.advance(500)
    }
    expect(t.exceeded).toEqual([])
    expect(t.beats.length).toBe(27)
  })

  it('after a failed heartbeat reports the error once and stops beating', async () => {
    const t = setup()
    t.failHeartbeats()
    t.guard.enter()
    await t.advance(100)
    await t.advance(100)
    await t.advance(100)
    expect(t.errors).toHaveLength(1)
    expect(t.beats.length).toBe(1)
  })
})
