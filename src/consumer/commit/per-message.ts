import type { CommitStrategy } from './types.js'

/** `per-message`: commit after every finished record; duplicates after a crash are bounded by the in-flight records. */
export function perMessageCommit(): CommitStrategy {
  return {
    name: 'per-message',
    intervalMs: null,
    processed: () => true,
    committed: () => {},
  }
}
