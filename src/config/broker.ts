/**
 * Broker and topic settings from the Kafka tuning notes kafkatune grew from. kafkatune cannot set
 * broker settings on your cluster; it documents them here, applies topic-level ones through
 * `admin.ensureTopic({ config, preset })`, and `startKafka({ brokerConfig })` passes broker ones to
 * the brokers it starts for tests.
 */
export interface BrokerSetting {
  /** The broker (server.properties) or topic property name. */
  property: string
  /** `broker` for server.properties, `topic` for a per-topic override (also settable per topic). */
  scope: 'broker' | 'topic' | 'jvm'
  /** The Apache Kafka default. */
  kafkaDefault: string
  /** What the tuning notes suggest and when. */
  advice: string
}

/** Broker, topic and JVM settings with the Kafka default and the advice behind them. */
export const BROKER_SETTINGS: readonly BrokerSetting[] = Object.freeze([
  { property: 'num.partitions', scope: 'broker', kafkaDefault: '1', advice: 'default partitions for auto-created topics; partitions can be added later but never removed, so size topics explicitly (TopicTuning.partitions)' },
  { property: 'default.replication.factor', scope: 'broker', kafkaDefault: '1', advice: 'use 3 in production (TopicTuning.replicationFactor): a write survives one broker loss' },
  { property: 'min.insync.replicas', scope: 'topic', kafkaDefault: '1', advice: '2 with replication factor 3: acks=all then waits for two copies and still accepts writes with one broker down' },
  { property: 'unclean.leader.election.enable', scope: 'topic', kafkaDefault: 'false', advice: 'keep false: an out-of-sync leader loses acknowledged records' },
  { property: 'message.max.bytes', scope: 'broker', kafkaDefault: '1048588', advice: 'largest record batch the broker accepts; raise with the producer max.request.size and the consumer max.partition.fetch.bytes; stay below ~10 MB' },
  { property: 'max.message.bytes', scope: 'topic', kafkaDefault: '1048588', advice: 'the per-topic form of message.max.bytes' },
  { property: 'socket.send.buffer.bytes', scope: 'broker', kafkaDefault: '102400', advice: 'network send buffer; -1 lets the OS auto-tune it, larger (e.g. 512 KB) helps high-latency links' },
  { property: 'socket.receive.buffer.bytes', scope: 'broker', kafkaDefault: '102400', advice: 'network receive buffer; -1 lets the OS auto-tune it' },
  { property: 'num.network.threads', scope: 'broker', kafkaDefault: '3', advice: 'threads serving network requests; about the number of cores' },
  { property: 'num.io.threads', scope: 'broker', kafkaDefault: '8', advice: 'threads doing disk I/O; at least the number of disks, more for NVMe, fewer for HDD' },
  { property: 'replica.fetch.min.bytes', scope: 'broker', kafkaDefault: '1', advice: 'followers wait for this many bytes; larger (e.g. 1 MB) is more efficient but delays acks=all' },
  { property: 'log.flush.interval.messages', scope: 'broker', kafkaDefault: '9223372036854775807', advice: 'leave unset: durability comes from replication, not fsync per record' },
  { property: 'log.flush.interval.ms', scope: 'broker', kafkaDefault: 'null (OS decides)', advice: 'leave unset unless a single-replica topic must survive power loss' },
  { property: 'retention.ms', scope: 'topic', kafkaDefault: '604800000 (7 days)', advice: 'how long records are kept (log.retention.ms broker-wide); back up elsewhere for long-term storage' },
  { property: 'segment.bytes', scope: 'topic', kafkaDefault: '1073741824 (1 GiB)', advice: 'segment size (log.segment.bytes broker-wide); retention and compaction act on whole segments' },
  { property: 'cleanup.policy', scope: 'topic', kafkaDefault: 'delete', advice: "'delete' drops old segments, 'compact' keeps the latest record per key, 'delete,compact' does both (log.cleanup.policy broker-wide)" },
  { property: 'log.cleaner.enable', scope: 'broker', kafkaDefault: 'true', advice: 'the log cleaner must run for compacted topics' },
  { property: 'compression.type', scope: 'topic', kafkaDefault: 'producer', advice: "keep 'producer': the broker stores batches as the producer compressed them" },
  { property: 'KAFKA_HEAP_OPTS', scope: 'jvm', kafkaDefault: '-Xmx1G -Xms1G', advice: '4-8 GB heap for production brokers; above ~16 GB, garbage collection pauses need care; the page cache does the rest' },
])
