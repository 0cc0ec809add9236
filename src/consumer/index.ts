export { createConsumer, createConsumerFromSettings } from './consumer.js'
export type {
  Consumer,
  ConsumerEvents,
  ConsumerEventMap,
  EachBatchHandler,
  EachMessageHandler,
  GroupJoinEvent,
  HandlerContext,
  MaxPollIntervalExceededEvent,
  PartitionsAssignedHandler,
  PartitionsRevokedHandler,
  RebalanceHandlers,
  RunHandlers,
} from './types.js'
export type { ConsumerMetrics } from './metrics.js'
export type { TopicPartitions } from './assignors/index.js'
export { DLQ_HEADERS } from './dead-letter.js'
export type { CommitStrategy as CommitStrategyModule } from './commit/index.js'
