import type { CommitStrategy } from './types.js'

/** `hybrid` (1+N): process one by one, commit the last offset after `size` records of a partition or `intervalMs`, whichever comes first. */
export function hybridCommit(size: number, intervalMs: number): CommitStrategy {
  const counts = new Map<string, number>()
  let last: number | null = null
  let retry = false
  return {
    name: 'hybrid',
    intervalMs,
    processed(partitionKey, now, count = 1) {
      if (last === null) last = now
      const n = (counts.get(partitionKey) ?? 0) + count
      counts.set(partitionKey, n)
      return retry || n >= size || now - last >= intervalMs
    },
    committed(now) {
      counts.clear()
      last = now
      retry = false
    },
    failed() {
      retry = true
    },
  }
}
