import type { CommitStrategy } from './types.js'

/** Default period of the `auto` strategy, as Java's `auto.commit.interval.ms`. */
export const AUTO_COMMIT_INTERVAL_MS = 5000

/** `auto`: commit the offsets of finished records in the background every `intervalMs` (enable.auto.commit). */
export function autoCommit(intervalMs: number = AUTO_COMMIT_INTERVAL_MS): CommitStrategy {
  return {
    name: 'auto',
    intervalMs,
    processed: () => false,
    committed: () => {},
  }
}
