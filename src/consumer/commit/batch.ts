import type { CommitStrategy } from './types.js'

/** `batch`: commit after `size` finished records of one partition; duplicates are bounded by `size` per owned partition. */
export function batchCommit(size: number): CommitStrategy {
  const counts = new Map<string, number>()
  let retry = false
  return {
    name: 'batch',
    intervalMs: null,
    processed(partitionKey, _now, count = 1) {
      const n = (counts.get(partitionKey) ?? 0) + count
      counts.set(partitionKey, n)
      return retry || n >= size
    },
    committed() {
      counts.clear()
      retry = false
    },
    failed() {
      retry = true
    },
  }
}
