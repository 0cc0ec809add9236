/** Where the broker behind a `KafkaHandle` comes from. */
export type KafkaMode = 'external' | 'container' | 'local'

/**
 * Options for `startKafka()`.
 * @example
 * const kafka = await startKafka({ nodes: 3 })
 */
export interface StartKafkaOptions {
  /**
   * Number of broker nodes: 1, or 3 (replication factor 3, min.insync.replicas 2).
   * @default 1
   */
  nodes?: 1 | 3
  /**
   * `auto` picks `external` when `KAFKA_BROKERS` is set, else `container` when a container runtime answers,
   * else `local` (Apache Kafka jars from Maven Central, run with Java 17+). Env `KAFKATUNE_KAFKA_MODE` overrides.
   * @default 'auto'
   */
  mode?: 'auto' | KafkaMode
  /** Container image for `container` mode; env `KAFKATUNE_KAFKA_IMAGE` overrides. */
  image?: string
  /**
   * Broker settings (server.properties) over the harness defaults, e.g. `{ 'log.retention.ms': 60000 }`, in
   * `local` and `container` modes. Settings the harness owns (node.id, listeners, quorum, log.dirs) are refused,
   * and so is any brokerConfig for an `external` cluster: `CONFIG_INVALID` before anything starts.
   */
  brokerConfig?: Readonly<Record<string, string | number | boolean>>
  /**
   * How long to wait for the broker(s) to report ready before failing with `HARNESS`.
   * @default 120000 (env `KAFKATUNE_KAFKA_START_TIMEOUT_MS`)
   */
  startTimeoutMs?: number
}

/** Fault control over one broker node that `startKafka()` started. */
export interface NodeControl {
  /** The node's `node.id`. */
  readonly nodeId: number
  /** `host:port` of the node's client listener. */
  readonly brokerAddress: string
  /** Host process id of the node's JVM while it runs (undefined when stopped or not a host process). */
  readonly pid: number | undefined
  /** SIGKILL the node and wait until it is gone. */
  kill(): Promise<void>
  /** SIGTERM the node, SIGKILL after a grace period, and wait until it is gone. */
  stop(): Promise<void>
  /** Restart a killed or stopped node with the same data and ports, and wait until it is ready. */
  start(): Promise<void>
  /** Freeze the node (SIGSTOP): its connections stay open but nothing answers. */
  pause(): Promise<void>
  /** Unfreeze a paused node (SIGCONT). */
  resume(): Promise<void>
  /** Container mode only: cut the node off the cluster network. */
  disconnect?(): Promise<void>
  /** Container mode only: reconnect the node to the cluster network. */
  connect?(): Promise<void>
}

/** A running Kafka (or an external one) for tests, benchmarks and demos. */
export interface KafkaHandle {
  /** Bootstrap servers, `host:port`. */
  readonly brokers: string[]
  /** Where the broker comes from. */
  readonly mode: KafkaMode
  /** Per-node control; empty in `external` mode. */
  readonly nodes: NodeControl[]
  /** Stop every node this handle started and remove its data (a no-op in `external` mode). */
  stop(): Promise<void>
}
