import { describe, expect, it } from 'vitest'
import { ConsumerLiveness, oldestCall } from '../../src/consumer/liveness.js'
import type { LifecycleState } from '../../src/consumer/liveness.js'

function setup(limits = { maxPollIntervalMs: 10_000, sessionTimeoutMs: 3000 }) {
  let now = 1_000_000
  let state: LifecycleState = 'connected'
  let failure: { message: string } | null = null
  let oldest: number | null = null
  const liveness = new ConsumerLiveness(limits, { state: () => state, failure: () => failure, oldestCallStartedAt: () => oldest }, () => now)
  return {
    liveness,
    advance: (ms: number) => void (now += ms),
    now: () => now,
    set: (s: LifecycleState) => void (state = s),
    fail: (message: string) => void (failure = { message }),
    callStarted: (at: number | null) => void (oldest = at),
    check: (name: string, options?: Parameters<ConsumerLiveness['health']>[0]) => liveness.health(options).checks.find((c) => c.name === name)!,
  }
}

function running() {
  const t = setup()
  t.set('running')
  t.liveness.started()
  t.liveness.joined(3)
  return t
}

describe('ConsumerLiveness', () => {
  it('connected but not running: live, not ready', () => {
    const t = setup()
    const h = t.liveness.health()
    expect(h).toMatchObject({ live: true, ready: false })
    expect(h.reasons).toEqual(['state: connected, not consuming (run() not called, or stopped)'])
  })

  it('running and joined: live and ready, every check listed', () => {
    const t = running()
    const h = t.liveness.health()
    expect(h).toMatchObject({ live: true, ready: true, reasons: [] })
    expect(h.checks.map((c) => c.name)).toEqual(['state', 'poll', 'consume', 'group'])
    expect(t.check('group').detail).toBe('member with 3 partition(s) assigned')
  })

  it('joining and rebalancing are not ready; an empty assignment is ready (idle member)', () => {
    const t = setup()
    t.set('running')
    t.liveness.started()
    t.advance(1500)
    expect(t.liveness.health()).toMatchObject({ live: true, ready: false, reasons: ['group: joining the group for 1500 ms'] })
    t.liveness.joined(0)
    expect(t.liveness.health()).toMatchObject({ live: true, ready: true })
    expect(t.check('group').detail).toMatch(/no partitions assigned/)
    t.liveness.rebalancing()
    t.advance(250)
    expect(t.liveness.health()).toMatchObject({ live: true, ready: false, reasons: ['group: rebalancing for 250 ms'] })
    t.liveness.joined(2)
    expect(t.liveness.health().ready).toBe(true)
  })

  it('polling TTL: by default maxPollIntervalMs + sessionTimeoutMs; overridable per call; fetches reset it', () => {
    const t = running()
    t.advance(13_000)
    expect(t.liveness.health().live).toBe(true)
    t.advance(1)
    const h = t.liveness.health()
    expect(h).toMatchObject({ live: false, ready: false })
    expect(h.reasons).toEqual(['poll: last fetch 13001 ms ago (ttl 13000 ms)'])
    t.liveness.polled()
    expect(t.liveness.health().live).toBe(true)
    t.advance(600)
    expect(t.liveness.health({ pollTtlMs: 500 }).live).toBe(false)
  })

  it('consuming TTL: a handler call running past it (default maxPollIntervalMs) fails liveness, one that returned does not', () => {
    const t = running()
    t.callStarted(t.now())
    t.advance(10_000)
    t.liveness.polled()
    expect(t.liveness.health().live).toBe(true)
    t.advance(1)
    expect(t.liveness.health()).toMatchObject({ live: false, reasons: ['consume: oldest handler call running for 10001 ms (ttl 10000 ms)'] })
    expect(t.liveness.health({ consumeTtlMs: 20_000 }).live).toBe(true)
    t.callStarted(null)
    expect(t.liveness.health().live).toBe(true)
  })

  it('a stuck handler fails liveness while stopping too, and a fatal error fails it with its message', () => {
    const t = running()
    t.set('stopping')
    t.callStarted(t.now())
    t.advance(20_000)
    const h = t.liveness.health()
    expect(h.live).toBe(false)
    expect(h.reasons.some((r) => r.startsWith('consume:'))).toBe(true)
    // Not consuming any more: no poll or group verdict.
    expect(t.check('poll')).toMatchObject({ ok: true, detail: 'not consuming' })
    t.callStarted(null)
    t.fail('Handler failed on t[0]@4 after 1 attempt(s): boom')
    expect(t.liveness.health()).toMatchObject({ live: false, ready: false, reasons: ['state: stopped by an error: Handler failed on t[0]@4 after 1 attempt(s): boom'] })
  })

  it('run() again starts a fresh poll window and a new join', () => {
    const t = running()
    t.advance(60_000)
    expect(t.liveness.health().live).toBe(false)
    t.liveness.started()
    expect(t.liveness.health()).toMatchObject({ live: true, ready: false })
  })

  it('oldestCall: the earliest start among running guards', () => {
    expect(oldestCall([])).toBeNull()
    expect(oldestCall([{ callStartedAt: null }, { callStartedAt: 30 }, { callStartedAt: 10 }, { callStartedAt: null }])).toBe(10)
  })
})
