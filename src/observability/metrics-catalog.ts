/**
 * Every metric kafkatune exports, once: its Java client name, kind, unit, meaning and label set. The
 * OpenTelemetry and Prometheus exporters and the README table are derived from this list; a client's
 * `MetricsSource` reports values against these descriptors.
 */

/**
 * Where a metric lives, as the Java client's MBean types: client-wide, per topic, per partition.
 * The group fixes the label set: producer `client_id`; consumer `client_id`, `group_id`; `-topic` adds
 * `topic`; `consumer-partition` adds `topic` and `partition`.
 */
export type MetricGroup = 'producer' | 'producer-topic' | 'consumer' | 'consumer-topic' | 'consumer-partition'

export interface MetricDescriptor {
  readonly group: MetricGroup
  /** The Java client's attribute name (kafkatune additions are marked in `java: false`). */
  readonly name: string
  /** A counter only grows (Prometheus counter, OTel observable counter); a gauge is a current value. */
  readonly kind: 'counter' | 'gauge'
  /** UCUM-style unit for OpenTelemetry. */
  readonly unit: string
  readonly help: string
  /** False for kafkatune's own additions (percentiles, handler time, committed lag...). */
  readonly java: boolean
}

/** Label values of one sample. */
export type MetricLabels = Readonly<Record<string, string>>

/** Receives one value of one metric. */
export type MetricSink = (metric: MetricDescriptor, value: number, labels: MetricLabels) => void

/** A client's metrics, read on demand by the exporters and `metrics()`. */
export interface MetricsSource {
  /** False before `connect()` and after `disconnect()`: exporters skip it. */
  readonly active: boolean
  collect(sink: MetricSink): void
}

const list: MetricDescriptor[] = []
const def = (group: MetricGroup, name: string, kind: 'counter' | 'gauge', unit: string, help: string, java = true): MetricDescriptor => {
  const d = Object.freeze({ group, name, kind, unit, help, java })
  list.push(d)
  return d
}

/** Producer metrics (Java `producer-metrics`, `producer-topic-metrics`). */
export const P = {
  recordSendTotal: def('producer', 'record-send-total', 'counter', '{record}', 'Records acknowledged by the brokers.'),
  recordSendRate: def('producer', 'record-send-rate', 'gauge', '{record}/s', 'Records acknowledged per second (last 10 s).'),
  recordErrorTotal: def('producer', 'record-error-total', 'counter', '{record}', 'Records whose send failed.'),
  recordErrorRate: def('producer', 'record-error-rate', 'gauge', '{record}/s', 'Failed records per second (last 10 s).'),
  recordRetryTotal: def('producer', 'record-retry-total', 'counter', '{record}', 'Records sent again after a retriable error.'),
  recordRetryRate: def('producer', 'record-retry-rate', 'gauge', '{record}/s', 'Records retried per second (last 10 s).'),
  requestTotal: def('producer', 'request-total', 'counter', '{request}', 'Produce requests completed.'),
  requestRate: def('producer', 'request-rate', 'gauge', '{request}/s', 'Produce requests per second (last 10 s).'),
  requestLatencyAvg: def('producer', 'request-latency-avg', 'gauge', 'ms', 'Average produce request latency (last 10-20 s).'),
  requestLatencyMax: def('producer', 'request-latency-max', 'gauge', 'ms', 'Largest produce request latency (last 10-20 s).'),
  requestLatencyP99: def('producer', 'request-latency-p99', 'gauge', 'ms', '99th percentile of produce request latency (HDR histogram, last 10-20 s).', false),
  requestsInFlight: def('producer', 'requests-in-flight', 'gauge', '{request}', 'Produce requests awaiting a response.'),
  recordQueueTimeAvg: def('producer', 'record-queue-time-avg', 'gauge', 'ms', 'Average time a batch waited in the accumulator before it was sent.'),
  recordQueueTimeMax: def('producer', 'record-queue-time-max', 'gauge', 'ms', 'Longest time a batch waited in the accumulator before it was sent.'),
  deliveryLatencyAvg: def('producer', 'delivery-latency-avg', 'gauge', 'ms', 'Average time from send() to the acknowledgement.', false),
  deliveryLatencyP99: def('producer', 'delivery-latency-p99', 'gauge', 'ms', '99th percentile of send() to acknowledgement (HDR histogram).', false),
  batchSizeAvg: def('producer', 'batch-size-avg', 'gauge', 'By', 'Average uncompressed bytes per partition batch.'),
  batchSizeMax: def('producer', 'batch-size-max', 'gauge', 'By', 'Largest partition batch, uncompressed bytes.'),
  recordsPerRequestAvg: def('producer', 'records-per-request-avg', 'gauge', '{record}', 'Average records per produce request.'),
  recordSizeAvg: def('producer', 'record-size-avg', 'gauge', 'By', 'Average uncompressed record size.'),
  compressionRateAvg: def('producer', 'compression-rate-avg', 'gauge', '1', 'Average compressed / uncompressed size ratio of the batches encoded in the last 10-20 s (of all batches so far when none was; 1 without compression).'),
  produceThrottleTimeAvg: def('producer', 'produce-throttle-time-avg', 'gauge', 'ms', 'Average time the brokers throttled this client (throttle_time_ms of produce responses, last 10-20 s).'),
  produceThrottleTimeMax: def('producer', 'produce-throttle-time-max', 'gauge', 'ms', 'Longest time the brokers throttled this client (throttle_time_ms of produce responses, last 10-20 s).'),
  bufferTotalBytes: def('producer', 'buffer-total-bytes', 'gauge', 'By', 'bufferMemory: the most bytes of records waiting or in flight.'),
  bufferAvailableBytes: def('producer', 'buffer-available-bytes', 'gauge', 'By', 'Buffer bytes not used by records waiting or in flight.'),
  bufferpoolWaitTimeNsTotal: def('producer', 'bufferpool-wait-time-ns-total', 'counter', 'ns', 'Time send() calls waited for buffer space.'),
  topicRecordSendTotal: def('producer-topic', 'record-send-total', 'counter', '{record}', 'Records acknowledged, per topic.'),
  topicRecordSendRate: def('producer-topic', 'record-send-rate', 'gauge', '{record}/s', 'Records acknowledged per second, per topic.'),
  topicByteTotal: def('producer-topic', 'byte-total', 'counter', 'By', 'Uncompressed record bytes acknowledged, per topic.'),
  topicByteRate: def('producer-topic', 'byte-rate', 'gauge', 'By/s', 'Uncompressed record bytes acknowledged per second, per topic.'),
  topicRecordErrorTotal: def('producer-topic', 'record-error-total', 'counter', '{record}', 'Records whose send failed, per topic.'),
  topicRecordRetryTotal: def('producer-topic', 'record-retry-total', 'counter', '{record}', 'Records retried, per topic.'),
  topicCompressionRate: def('producer-topic', 'compression-rate', 'gauge', '1', 'Average compressed / uncompressed size ratio of the batches of a topic (last 10-20 s; of all its batches when none was).'),
} as const

/** Consumer metrics (Java `consumer-fetch-manager-metrics`, `consumer-coordinator-metrics`, `consumer-metrics`). */
export const C = {
  recordsConsumedTotal: def('consumer', 'records-consumed-total', 'counter', '{record}', 'Records handed to the handlers.'),
  recordsConsumedRate: def('consumer', 'records-consumed-rate', 'gauge', '{record}/s', 'Records handed to the handlers per second (last 10 s).'),
  bytesConsumedTotal: def('consumer', 'bytes-consumed-total', 'counter', 'By', 'Record bytes fetched.'),
  bytesConsumedRate: def('consumer', 'bytes-consumed-rate', 'gauge', 'By/s', 'Record bytes fetched per second (last 10 s).'),
  fetchTotal: def('consumer', 'fetch-total', 'counter', '{request}', 'Fetch requests.'),
  fetchRate: def('consumer', 'fetch-rate', 'gauge', '{request}/s', 'Fetch requests per second (last 10 s).'),
  fetchLatencyAvg: def('consumer', 'fetch-latency-avg', 'gauge', 'ms', 'Average fetch request time (last 10-20 s).'),
  fetchLatencyMax: def('consumer', 'fetch-latency-max', 'gauge', 'ms', 'Longest fetch request time (last 10-20 s).'),
  fetchSizeAvg: def('consumer', 'fetch-size-avg', 'gauge', 'By', 'Average record bytes per fetch response (last 10-20 s).'),
  fetchSizeMax: def('consumer', 'fetch-size-max', 'gauge', 'By', 'Largest record bytes of a fetch response (last 10-20 s).'),
  fetchThrottleTimeAvg: def('consumer', 'fetch-throttle-time-avg', 'gauge', 'ms', 'Average time the brokers throttled this client (throttle_time_ms of fetch responses, last 10-20 s).'),
  fetchThrottleTimeMax: def('consumer', 'fetch-throttle-time-max', 'gauge', 'ms', 'Longest time the brokers throttled this client (throttle_time_ms of fetch responses, last 10-20 s).'),
  recordsLagMax: def('consumer', 'records-lag-max', 'gauge', '{record}', 'Largest records-lag any partition had over the last 10-20 s (the current lags included), as the Java client\'s max over its sample window.'),
  assignedPartitions: def('consumer', 'assigned-partitions', 'gauge', '{partition}', 'Partitions assigned to this member.'),
  commitTotal: def('consumer', 'commit-total', 'counter', '{commit}', 'Offset commits that succeeded.'),
  commitRate: def('consumer', 'commit-rate', 'gauge', '{commit}/s', 'Offset commits per second (last 10 s).'),
  commitLatencyAvg: def('consumer', 'commit-latency-avg', 'gauge', 'ms', 'Average offset commit time (last 10-20 s).'),
  commitLatencyMax: def('consumer', 'commit-latency-max', 'gauge', 'ms', 'Longest offset commit time (last 10-20 s).'),
  commitFailedTotal: def('consumer', 'commit-failed-total', 'counter', '{commit}', 'Offset commits that failed (the next commit carries the same offsets).', false),
  rebalanceTotal: def('consumer', 'rebalance-total', 'counter', '{rebalance}', 'Group joins completed (the first one included).'),
  rebalanceLatencyAvg: def('consumer', 'rebalance-latency-avg', 'gauge', 'ms', 'Average join + sync time of a rebalance.'),
  rebalanceLatencyMax: def('consumer', 'rebalance-latency-max', 'gauge', 'ms', 'Longest join + sync time of a rebalance.'),
  rebalanceLatencyTotal: def('consumer', 'rebalance-latency-total', 'counter', 'ms', 'Time spent in rebalances.'),
  lastRebalanceSecondsAgo: def('consumer', 'last-rebalance-seconds-ago', 'gauge', 's', 'Seconds since the last rebalance (-1 before the first).'),
  lastPollSecondsAgo: def('consumer', 'last-poll-seconds-ago', 'gauge', 's', 'Seconds since the last fetch (kafkatune polls by fetching; -1 before the first).'),
  handlerTimeAvg: def('consumer', 'handler-time-avg', 'gauge', 'ms', 'Average handler call time (last 10-20 s).', false),
  handlerTimeMax: def('consumer', 'handler-time-max', 'gauge', 'ms', 'Longest handler call time (last 10-20 s).', false),
  handlerTimeP99: def('consumer', 'handler-time-p99', 'gauge', 'ms', '99th percentile of handler call time (HDR histogram, last 10-20 s).', false),
  handlerRetryTotal: def('consumer', 'handler-retry-total', 'counter', '{call}', 'Handler calls retried.', false),
  deadLetterTotal: def('consumer', 'dead-letter-total', 'counter', '{record}', 'Records sent to the dead-letter topic.', false),
  topicRecordsConsumedTotal: def('consumer-topic', 'records-consumed-total', 'counter', '{record}', 'Records handed to the handlers, per topic.'),
  topicRecordsConsumedRate: def('consumer-topic', 'records-consumed-rate', 'gauge', '{record}/s', 'Records handed to the handlers per second, per topic.'),
  topicBytesConsumedTotal: def('consumer-topic', 'bytes-consumed-total', 'counter', 'By', 'Record bytes fetched, per topic.'),
  recordsLag: def('consumer-partition', 'records-lag', 'gauge', '{record}', 'High watermark minus the position (next record to hand out), from assignment on.'),
  recordsLagCommitted: def('consumer-partition', 'records-lag-committed', 'gauge', '{record}', 'High watermark minus the committed offset.', false),
} as const

/** Every metric, in catalog order. */
export const METRICS: readonly MetricDescriptor[] = Object.freeze(list)

const PREFIX: Record<MetricGroup, string> = {
  producer: 'kafka.producer',
  'producer-topic': 'kafka.producer.topic',
  consumer: 'kafka.consumer',
  'consumer-topic': 'kafka.consumer.topic',
  'consumer-partition': 'kafka.consumer',
}

/** The OpenTelemetry instrument name, e.g. `kafka.producer.record-send-total`. */
export const otelName = (m: MetricDescriptor): string => `${PREFIX[m.group]}.${m.name}`

/** The Prometheus metric name, e.g. `kafka_producer_record_send_total`. */
export const prometheusName = (m: MetricDescriptor): string => otelName(m).replace(/[.-]/g, '_')

/** The label names of a group, in a fixed order. */
export function labelNames(group: MetricGroup): readonly string[] {
  switch (group) {
    case 'producer':
      return ['client_id']
    case 'producer-topic':
      return ['client_id', 'topic']
    case 'consumer':
      return ['client_id', 'group_id']
    case 'consumer-topic':
      return ['client_id', 'group_id', 'topic']
    case 'consumer-partition':
      return ['client_id', 'group_id', 'topic', 'partition']
  }
}
