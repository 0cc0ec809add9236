import type { ConsumerTuning, Preset, ProducerTuning, Reasons, TopicTuning } from '../src/config/types.js'

const producer = {
  acks: 1,
  lingerMs: 0,
  batchSize: 8_192,
  bufferMemory: 8_388_608,
  maxBlockMs: 5_000,
  compression: 'none',
  idempotent: false,
  maxInFlightRequests: 5,
  requestTimeoutMs: 10_000,
  deliveryTimeoutMs: 30_000,
  partitioner: 'default',
} satisfies ProducerTuning

const consumer = {
  commit: { strategy: 'hybrid', size: 100, intervalMs: 1_000 },
  fetchMinBytes: 1,
  fetchMaxWaitMs: 20,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 3_000,
  maxPollRecords: 100,
  autoOffsetReset: 'latest',
} satisfies ConsumerTuning

const topic = {} satisfies TopicTuning

/** Smallest send-to-ack and produce-to-consume delay; gives up throughput and some durability. */
export const lowLatency: Preset = {
  name: 'low-latency',
  description: 'Send at once, acknowledge from the leader only, fetch as soon as one byte is there.',
  producer,
  consumer,
  topic,
  reasons: {
    producer: {
      acks: 'the leader alone acknowledges: one network round trip less than acks=all',
      lingerMs: 'send as soon as the event loop allows, never wait for a batch to fill',
      batchSize: 'small batches: nothing waits behind a large batch being built',
      bufferMemory: 'a small buffer: backpressure shows early instead of queueing delay',
      maxBlockMs: 'fail fast when the buffer is full rather than hide a stall',
      compression: 'no compression: no CPU time between send() and the wire',
      idempotent: 'acks=1 rules idempotence out (it needs acks=all)',
      maxInFlightRequests: 'Java default: several requests in flight per connection',
      requestTimeoutMs: 'a stuck request is noticed within 10 s',
      deliveryTimeoutMs: 'a record older than 30 s is no longer low-latency: report it',
      partitioner: 'Java default: murmur2 for keys, sticky for null keys',
    } satisfies Reasons<typeof producer>,
    consumer: {
      commit: '1+N hybrid, N = 100 or 1 s: redelivery after a crash stays small, and at 1,000 records/s the commits (a coordinator round trip each) do not queue with the fetches every 10 ms',
      fetchMinBytes: 'answer a fetch as soon as one byte is there',
      fetchMaxWaitMs: 'an empty fetch returns within 20 ms, so a new record waits at most that long',
      sessionTimeoutMs: 'a dead member is noticed within 10 s',
      heartbeatIntervalMs: 'a third of the session timeout',
      maxPollRecords: 'small polls: the next record is not stuck behind a long batch',
      autoOffsetReset: 'a new group starts at the live end of the log',
    } satisfies Reasons<typeof consumer>,
  },
}

export default lowLatency
