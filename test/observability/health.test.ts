import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { healthReport } from '../../src/observability/health.js'
import type { HealthCheck } from '../../src/observability/health.js'

const check = fc.record({ name: fc.constantFrom('state', 'poll', 'consume', 'group', 'buffer'), ok: fc.boolean(), affects: fc.constantFrom<'live' | 'ready'>('live', 'ready'), detail: fc.string() })

describe('healthReport', () => {
  it('ready implies live; live iff no liveness check failed; one reason per failed check, liveness first', () => {
    fc.assert(
      fc.property(fc.array(check, { maxLength: 8 }), (checks: HealthCheck[]) => {
        const h = healthReport(checks, 7)
        const failed = checks.filter((c) => !c.ok)
        expect(h.live).toBe(!failed.some((c) => c.affects === 'live'))
        expect(h.ready).toBe(failed.length === 0)
        if (h.ready) expect(h.live).toBe(true)
        expect(h.reasons).toEqual([...failed.filter((c) => c.affects === 'live'), ...failed.filter((c) => c.affects === 'ready')].map((c) => `${c.name}: ${c.detail}`))
        expect(h.checks).toBe(checks)
        expect(h.at).toBe(7)
      }),
    )
  })
})
