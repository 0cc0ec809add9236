import type { CommitStrategy } from './types.js'

/** `interval`: commit every `intervalMs`; duplicates are bounded by what arrived within `intervalMs`. */
export function intervalCommit(intervalMs: number): CommitStrategy {
  let last: number | null = null
  let retry = false
  return {
    name: 'interval',
    intervalMs,
    processed(_partitionKey, now) {
      // The first record starts the clock, so a consumer idle for a while does not commit at once.
      if (last === null) last = now
      return retry || now - last >= intervalMs
    },
    committed(now) {
      last = now
      retry = false
    },
    failed() {
      retry = true
    },
  }
}
