/**
 * The health report shared by `consumer.health()`, `pipeline.health()` and `producer.health()`: two booleans
 * for the two probes an orchestrator asks (Kubernetes `livenessProbe` -> `/livez`, `readinessProbe` ->
 * `/readyz`), the reasons when one fails, and every check with what it saw.
 */

/** One check of a health report. */
export interface HealthCheck {
  /** What was checked: `state`, `poll`, `consume`, `group` (consumer, pipeline); `state`, `requests`, `buffer` (producer). */
  name: string
  /** Whether the check passed. */
  ok: boolean
  /**
   * Which probe a failure fails: `'live'` (restart the process: it is stuck or stopped for good, and fails
   * readiness too) or `'ready'` (temporarily unable to do its work: joining, rebalancing, buffer full).
   */
  affects: 'live' | 'ready'
  /** One line on what was seen, e.g. `last poll 1200 ms ago (ttl 345000 ms)`. Never holds a secret. */
  detail: string
}

/** A health report: `live` for a liveness probe, `ready` for a readiness probe. */
export interface Health {
  /** False when the client will not recover by itself (a handler stuck, polling stopped, a fatal error, fenced, closed): restart it. */
  live: boolean
  /** False when it cannot do its work right now (not running yet, joining or rebalancing, buffer near full); implies nothing about `live`, except that `live: false` makes `ready` false too. */
  ready: boolean
  /** The `detail` of every failing check, liveness failures first; empty when live and ready. */
  reasons: string[]
  /** Every check, passing or not, in a stable order. */
  checks: HealthCheck[]
  /** When the report was made, ms since the epoch. */
  at: number
}

/** Builds a report from its checks: live unless a `'live'` check failed, ready when live and no check failed. */
export function healthReport(checks: HealthCheck[], at: number): Health {
  const failedLive = checks.filter((c) => !c.ok && c.affects === 'live')
  const failedReady = checks.filter((c) => !c.ok && c.affects === 'ready')
  return {
    live: failedLive.length === 0,
    ready: failedLive.length === 0 && failedReady.length === 0,
    reasons: [...failedLive, ...failedReady].map((c) => `${c.name}: ${c.detail}`),
    checks,
    at,
  }
}
