import type { ConsumerTuning, Preset, ProducerTuning, Reasons, TopicTuning } from '../src/config/types.js'

const producer = {
  acks: 'all',
  idempotent: true,
  lingerMs: 5,
  batchSize: 16_384,
  compression: 'none',
  maxInFlightRequests: 5,
  retries: 2_147_483_647,
  transactionTimeoutMs: 60_000,
  partitioner: 'default',
} satisfies ProducerTuning

const consumer = {
  isolationLevel: 'read_committed',
  commit: { strategy: 'hybrid', size: 100, intervalMs: 1000 },
  autoOffsetReset: 'earliest',
  maxPollRecords: 500,
} satisfies ConsumerTuning

const topic = {
  replicationFactor: 3,
  config: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' },
} satisfies TopicTuning

/** Transactions, idempotence and read_committed: every input reflected exactly once. */
export const exactlyOnce: Preset = {
  name: 'exactly-once',
  description: 'Idempotent transactional producer, acks=all, read_committed consumers, RF 3 / min ISR 2 topics.',
  requiresTransactionalId: true,
  producer,
  consumer,
  topic,
  reasons: {
    producer: {
      acks: 'every in-sync replica has the record before it counts as written',
      idempotent: 'no duplicates and no reordering across retries; transactions need it',
      lingerMs: 'a small linger: transactions commit soon after their last send',
      batchSize: 'Java default batch size',
      compression: 'no compression: transactional batches are small',
      maxInFlightRequests: 'the most idempotence allows while keeping order',
      retries: 'retry until delivery.timeout.ms: idempotence makes retries safe',
      transactionTimeoutMs: 'Java default: the broker aborts a transaction open longer than 60 s',
      partitioner: 'Java default: murmur2 for keys, sticky for null keys',
    } satisfies Reasons<typeof producer>,
    consumer: {
      isolationLevel: 'never show records of aborted or open transactions',
      commit: 'outside a pipeline, commit after 100 records or 1 s (a crash repeats at most that many per partition; per-message commits cost a round trip per record, 0.27x in bench/consumer.mjs); createPipeline commits offsets inside its transaction, with no repeats',
      autoOffsetReset: 'a new group reads everything: nothing is skipped',
      maxPollRecords: 'Java default',
    } satisfies Reasons<typeof consumer>,
    topic: {
      replicationFactor: 'three copies: a write survives the loss of one broker',
      'config.min.insync.replicas': 'acks=all waits for two copies; one broker down still accepts writes',
      'config.unclean.leader.election.enable': 'never elect an out-of-sync replica, which would lose acked records',
    },
  },
}

export default exactlyOnce
