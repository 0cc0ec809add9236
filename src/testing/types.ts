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
  /**
   * Secured client listeners, opened beside the internal PLAINTEXT listener that the controller and
   * inter-broker traffic keep using. `brokers` then points at the first listener listed; `handle.security` has
   * every address and the connection options a client needs. Container mode needs kafkatune's image
   * (scripts/build-kafka-image.sh); other images and external mode refuse it with `CONFIG_INVALID`; auto mode
   * starts a secured cluster locally.
   * @example
   * const kafka = await startKafka({ security: { listeners: ['sasl-ssl', 'mtls'] } })
   * const producer = createProducer({ ...kafka.security!.connection('sasl-ssl', 'scram-sha-512') })
   * @default undefined (one PLAINTEXT listener)
   */
  security?: KafkaSecurity
}

/** A secured client listener kind: `mtls` is SSL with a required client certificate. */
export type SecureListener = 'sasl-plaintext' | 'ssl' | 'mtls' | 'sasl-ssl'
/** SASL mechanisms the harness can enable (OAUTHBEARER with Kafka's unsecured JWS validator: tests only). */
export type TestSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer'

/** `startKafka({ security })`. */
export interface KafkaSecurity {
  /** Client listeners to open (at least one); the first is what `handle.brokers` points at. */
  listeners: SecureListener[]
  /**
   * SASL mechanisms enabled on the SASL listeners (PLAIN users live in the JAAS config, SCRAM users are
   * created when storage is formatted, OAUTHBEARER tokens are unsecured JWS).
   * @default all four
   */
  mechanisms?: TestSaslMechanism[]
}

/** Client connection options for one listener (spread into a kafkatune factory). */
export interface TestConnection {
  brokers: string[]
  ssl?: { ca: string[]; cert?: string; key?: string }
  sasl?:
    | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
    | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> }
}

/** What `startKafka({ security })` made: addresses, the test CA, a client certificate and credentials. */
export interface KafkaSecurityInfo {
  readonly listeners: readonly SecureListener[]
  readonly mechanisms: readonly TestSaslMechanism[]
  /** Bootstrap servers per listener; `plaintext` is the internal listener (no TLS, no SASL). */
  readonly brokers: Readonly<Record<SecureListener | 'plaintext', string[]>>
  /** PEM of the throwaway CA that signed the broker's certificate (SAN 127.0.0.1 and localhost). */
  readonly ca: string
  /** PEM client certificate and key signed by the same CA (for `mtls`). */
  readonly clientCert: string
  readonly clientKey: string
  /** PLAIN and SCRAM credentials (random per start). */
  readonly users: { readonly plain: { username: string; password: string }; readonly scram: { username: string; password: string } }
  /** Every OAUTHBEARER token handed out so far (tests grep logs for them). */
  readonly tokensIssued: readonly string[]
  /** Connection options for a listener (and a mechanism on SASL listeners). */
  connection(listener: SecureListener, mechanism?: TestSaslMechanism): TestConnection
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
  /** Set when started with `security`. */
  readonly security?: KafkaSecurityInfo
  /** Stop every node this handle started and remove its data (a no-op in `external` mode). */
  stop(): Promise<void>
}
