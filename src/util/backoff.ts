/**
 * The one back-off of kafkatune: the Java client's exponential back-off (`ExponentialBackoff`): the delay before
 * retry number `attempt` (1-based) is `baseMs * 2^(attempt-1)`, capped at `maxMs`, times a random factor in
 * `[1 - jitter, 1 + jitter]` (Java uses 0.2) so that clients failing together do not retry together.
 */
export interface BackoffOptions {
  /** retry.backoff.ms: the first delay. */
  baseMs: number
  /** retry.backoff.max.ms: the largest delay before jitter. @default no cap */
  maxMs?: number
  /** @default 0.2 */
  jitter?: number
  /** A source of randomness in [0, 1). @default Math.random */
  random?: () => number
}

/** Delay in ms before retry number `attempt` (1-based). */
export function backoffMs(attempt: number, o: BackoffOptions): number {
  const term = Math.min(o.baseMs * 2 ** Math.max(0, attempt - 1), o.maxMs ?? Number.POSITIVE_INFINITY)
  const jitter = o.jitter ?? 0.2
  if (jitter <= 0) return term
  const factor = 1 - jitter + 2 * jitter * (o.random ?? Math.random)()
  return Math.round(term * factor)
}
