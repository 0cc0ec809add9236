import type { CommitStrategyConfig } from '../../config/types.js'
import { autoCommit } from './auto.js'
import { batchCommit } from './batch.js'
import { hybridCommit } from './hybrid.js'
import { intervalCommit } from './interval.js'
import { perMessageCommit } from './per-message.js'
import type { CommitStrategy } from './types.js'

export type { CommitStrategy } from './types.js'
export { autoCommit, AUTO_COMMIT_INTERVAL_MS } from './auto.js'
export { batchCommit } from './batch.js'
export { hybridCommit } from './hybrid.js'
export { intervalCommit } from './interval.js'
export { perMessageCommit } from './per-message.js'

/** Builds the commit strategy an options object names. */
export function createCommitStrategy(config: CommitStrategyConfig): CommitStrategy {
  switch (config.strategy) {
    case 'auto':
      return autoCommit(config.intervalMs)
    case 'per-message':
      return perMessageCommit()
    case 'batch':
      return batchCommit(config.size)
    case 'interval':
      return intervalCommit(config.intervalMs)
    case 'hybrid':
      return hybridCommit(config.size, config.intervalMs)
  }
}
