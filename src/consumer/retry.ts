import type { RetryPolicy } from '../config/types.js'
import { KafkatuneError, isKafkatuneError } from '../errors.js'
import { recordRetry } from '../observability/tracing-consumer.js'
import { backoffMs } from '../util/backoff.js'

/**
 * Delay before retry number `attempt` (1-based): the one back-off (`src/util/backoff.ts`), `backoffMs * 2^(attempt-1)`
 * capped at `maxBackoffMs`, with the Java client's ±20% jitter unless `random` is fixed.
 */
export function backoffFor(attempt: number, policy: Readonly<RetryPolicy>, random?: () => number): number {
  return backoffMs(attempt, { baseMs: policy.backoffMs, ...(policy.maxBackoffMs !== undefined ? { maxMs: policy.maxBackoffMs } : {}), ...(random ? { random } : {}) })
}

/** Outcome of running a handler with retries. */
export type RetryOutcome = { ok: true; attempts: number } | { ok: false; attempts: number; error: unknown }

/**
 * Calls `fn` until it resolves or `policy.attempts` calls were made, sleeping with exponential back-off in between.
 * `attempts` counts every call including the first, so `attempts: 3` means one call and at most two retries.
 */
export async function runWithRetries(
  fn: () => Promise<void>,
  policy: Readonly<RetryPolicy> | null,
  hooks: { sleep: (ms: number) => Promise<void>; onRetry?: (attempt: number, error: unknown) => void; shouldStop?: () => boolean; random?: () => number },
): Promise<RetryOutcome> {
  const retries = Math.max(0, (policy?.attempts ?? 1) - 1)
  let attempt = 0
  for (;;) {
    try {
      await fn()
      return { ok: true, attempts: attempt + 1 }
    } catch (error) {
      if (attempt >= retries || policy === null || hooks.shouldStop?.() === true) {
        return { ok: false, attempts: attempt + 1, error }
      }
      attempt++
      hooks.onRetry?.(attempt, error)
      const delay = backoffFor(attempt, policy, hooks.random)
      // An event on the span of the record being processed, when kafkatune traces it.
      recordRetry(attempt, error, delay)
      await hooks.sleep(delay)
    }
  }
}

/** The error a record failed with for good: a deserialization error as it is, anything else as `HANDLER_FAILED`. */
export function handlerFailure(record: { topic: string; partition: number; offset: string }, error: unknown, attempts: number, groupId: string): KafkatuneError {
  if (isKafkatuneError(error, 'DESERIALIZATION')) return error
  const { topic, partition, offset } = record
  return new KafkatuneError('HANDLER_FAILED', `Handler failed on ${topic}[${partition}]@${offset} after ${attempts} attempt(s): ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
    retriable: false,
    details: { topic, partition, offset, attempts, groupId },
  })
}
