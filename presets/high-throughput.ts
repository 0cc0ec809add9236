import type { ConsumerTuning, Preset, ProducerTuning, Reasons, TopicTuning } from '../src/config/types.js'

const producer = {
  acks: 1,
  lingerMs: 20,
  batchSize: 131_072,
  bufferMemory: 67_108_864,
  maxBlockMs: 60_000,
  compression: 'lz4',
  idempotent: false,
  maxInFlightRequests: 5,
  partitioner: 'default',
} satisfies ProducerTuning

const consumer = {
  commit: { strategy: 'hybrid', size: 1_000, intervalMs: 5_000 },
  fetchMinBytes: 65_536,
  fetchMaxWaitMs: 500,
  fetchMaxBytes: 52_428_800,
  maxPartitionFetchBytes: 1_048_576,
  maxPollRecords: 2_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  partitionsConsumedConcurrently: 2,
} satisfies ConsumerTuning

const topic = { partitions: 6 } satisfies TopicTuning

/** Most records per second per CPU second; trades a few ms of delay for large batches. */
export const highThroughput: Preset = {
  name: 'high-throughput',
  description: 'Large compressed batches, leader acks, big fetches and rare commits.',
  producer,
  consumer,
  topic,
  reasons: {
    producer: {
      acks: 'the leader alone acknowledges: more requests complete per second',
      lingerMs: 'wait up to 20 ms so batches fill (the tuning notes give 5-50 ms)',
      batchSize: '128 KiB batches: fewer requests, better compression (notes: 64-256 KiB)',
      bufferMemory: '64 MiB keeps every partition batching while requests are in flight',
      maxBlockMs: 'Java default: wait up to 60 s for buffer space under bursts',
      compression: 'lz4: good ratio for little CPU, fast to decompress for consumers',
      idempotent: 'acks=1 rules idempotence out (it needs acks=all)',
      maxInFlightRequests: 'several requests in flight keep the connection busy',
      partitioner: 'Java default: murmur2 for keys, sticky for null keys fills batches',
    } satisfies Reasons<typeof producer>,
    consumer: {
      commit: '1+N hybrid with a large N: one commit per 1,000 records or 5 s',
      fetchMinBytes: 'the broker waits for 64 KiB before answering: fewer, fuller fetches',
      fetchMaxWaitMs: 'Java default wait: bounds the delay fetchMinBytes adds',
      fetchMaxBytes: 'Java default: up to 50 MiB per fetch response',
      maxPartitionFetchBytes: 'Java default 1 MiB (8 full 128 KiB batches): the next fetch goes out only after this one is handled, so a larger response only delays the first records and holds more memory (4 MiB measured slower, bench/RESULTS.md run 4)',
      maxPollRecords: 'large polls: fewer handler calls and commits per record',
      sessionTimeoutMs: 'long handlers on big polls do not get the member evicted',
      heartbeatIntervalMs: 'Java default, well below a third of the session timeout',
      partitionsConsumedConcurrently: 'process two partitions at once (the machines here have 2 cores)',
    } satisfies Reasons<typeof consumer>,
    topic: {
      partitions: 'six partitions give parallelism to producers and up to six consumers',
    } satisfies Reasons<typeof topic>,
  },
}

export default highThroughput
