import { describe, expect, it } from 'vitest'
import { backoffFor, runWithRetries } from '../../src/consumer/retry.js'

describe('retry', () => {
  it('backs off exponentially up to maxBackoffMs', () => {
    const p = { attempts: 10, backoffMs: 100, maxBackoffMs: 500 }
    const mid = () => 0.5 // jitter factor 1
    expect([1, 2, 3, 4, 5].map((a) => backoffFor(a, p, mid))).toEqual([100, 200, 400, 500, 500])
    expect(backoffFor(4, { attempts: 10, backoffMs: 10 }, mid)).toBe(80)
    // The Java client's ±20% jitter around each step.
    for (let i = 0; i < 200; i++) {
      const d = backoffFor(3, p)
      expect(d).toBeGreaterThanOrEqual(320)
      expect(d).toBeLessThanOrEqual(480)
    }
  })

  it('calls at most `attempts` times and reports the last error', async () => {
    const sleeps: number[] = []
    let calls = 0
    const out = await runWithRetries(
      async () => {
        calls++
        throw new Error(`fail ${calls}`)
      },
      { attempts: 3, backoffMs: 5 },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    )
    expect(calls).toBe(3)
    expect(sleeps).toEqual([5, 10])
    expect(out.ok).toBe(false)
    expect(out.ok === false && (out.error as Error).message).toBe('fail 3')
  })

  it('succeeds on a later attempt and calls once without a policy', async () => {
    let calls = 0
    const out = await runWithRetries(
      async () => {
        if (++calls < 3) throw new Error('not yet')
      },
      { attempts: 3, backoffMs: 1 },
      { sleep: async () => {} },
    )
    expect(out).toEqual({ ok: true, attempts: 3 })
    let once = 0
    const none = await runWithRetries(async () => { once++; throw new Error('x') }, null, { sleep: async () => {} })
    expect(once).toBe(1)
    expect(none.ok).toBe(false)
  })
})
