/**
 * Container mode of `kafkatune/testing`: Apache Kafka (KRaft) in containers through Testcontainers, on Docker
 * or on Podman's Docker-compatible API. The image is configured by `KAFKA_*` variables the way the official
 * `apache/kafka` image is, so `apache/kafka:<version>` and the image `scripts/build-kafka-image.sh` builds
 * offline behave the same. `testcontainers` is an optional peer dependency, loaded only here.
 */
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { Kafka, logLevel } from 'kafkajs'
import { ConfigError, KafkatuneError } from '../errors.js'
import { brokerConfigVariable, checkBrokerConfig } from './broker-config.js'
import { KAFKA_VERSION } from './jars.js'
import type { KafkaHandle, NodeControl, StartKafkaOptions } from './types.js'

/** The image container mode runs unless `image` / `KAFKATUNE_KAFKA_IMAGE` names another: the official one, same version as the local jars. */
export const DEFAULT_KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`

type Testcontainers = typeof import('testcontainers')
type RuntimeClient = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>
type DockerContainer = ReturnType<RuntimeClient['container']['getById']>
type DockerNetwork = ReturnType<RuntimeClient['network']['getById']>
type StartedContainer = Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>

const READY_LINE = 'Kafka Server started'
const DEFAULT_START_TIMEOUT_MS = 120_000
const DETECT_TIMEOUT_MS = 5_000
const STOP_GRACE_S = 10
/** Every container and network kafkatune starts carries these labels (`scripts/podman-setup.sh` removes leftovers by the first). */
const LABEL_MANAGED = 'dev.kafkatune.managed'
const LABEL_SESSION = 'dev.kafkatune.session'
const CLIENT_PORT = 9092
const CONTROLLER_PORT = 9093
const BROKER_PORT = 9094

const ENABLE_HINT =
  'Start Docker, or Podman\'s Docker API (`source scripts/podman-setup.sh` sets DOCKER_HOST and starts `podman system service`), or use mode "local" (Java 17+) or "external" (KAFKA_BROKERS)'

async function loadTestcontainers(): Promise<Testcontainers> {
  try {
    return await import('testcontainers')
  } catch (err) {
    throw new KafkatuneError(
      'HARNESS',
      `kafkatune: container mode needs the optional peer dependency 'testcontainers' (npm install --save-dev testcontainers@11); or use mode "local" (Java 17+) or "external" (KAFKA_BROKERS).`,
      { cause: err, retriable: false },
    )
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
    timer.unref()
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}

/**
 * When DOCKER_HOST names a socket or TCP endpoint, check it answers an HTTP request (any answer: a TLS port says 400)
 * within `ms`: otherwise a host that accepts and never answers would leave dockerode's request, and so the process,
 * hanging.
 */
function dockerHostAnswers(ms: number): Promise<boolean> {
  const raw = process.env.DOCKER_HOST ?? ''
  let target: { socketPath: string } | { host: string; port: number } | undefined
  if (raw.startsWith('unix://')) target = { socketPath: raw.slice('unix://'.length) }
  else if (/^(tcp|http|https):\/\//.test(raw)) {
    try {
      const url = new URL(raw.replace(/^tcp:/, 'http:'))
      target = { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 2376 : 2375)) }
    } catch {
      return Promise.resolve(false)
    }
  }
  if (target === undefined) return Promise.resolve(true)
  const options = target
  return new Promise((resolve) => {
    const req = httpRequest({ ...options, path: '/_ping', method: 'GET', timeout: ms }, (res) => {
      res.resume()
      req.destroy()
      resolve(true)
    })
    req.once('timeout', () => {
      req.destroy()
      resolve(false)
    })
    req.once('error', () => resolve(false))
    req.end()
  })
}

let runtimeAnswer: Promise<boolean> | undefined

/**
 * True when a container runtime (Docker, or Podman's Docker API) answers within a few seconds; quiet, and asked
 * once per process.
 */
export function containerRuntimeAvailable(): Promise<boolean> {
  runtimeAnswer ??= (async () => {
    try {
      if (!(await dockerHostAnswers(DETECT_TIMEOUT_MS))) return false
      const tc = await loadTestcontainers()
      await withTimeout(tc.getContainerRuntimeClient(), DETECT_TIMEOUT_MS, 'container runtime')
      return true
    } catch {
      return false
    }
  })()
  return runtimeAnswer
}

async function runtimeClient(tc: Testcontainers): Promise<RuntimeClient> {
  if (!(await dockerHostAnswers(DETECT_TIMEOUT_MS))) {
    throw new KafkatuneError('HARNESS', `kafkatune: container mode: DOCKER_HOST=${process.env.DOCKER_HOST ?? ''} does not answer. ${ENABLE_HINT}.`, {
      retriable: false,
    })
  }
  try {
    return await withTimeout(tc.getContainerRuntimeClient(), DETECT_TIMEOUT_MS * 2, 'container runtime')
  } catch (err) {
    throw new KafkatuneError('HARNESS', `kafkatune: container mode found no working container runtime (${(err as Error).message}). ${ENABLE_HINT}.`, {
      cause: err,
      retriable: false,
    })
  }
}

function startTimeout(options: StartKafkaOptions): number {
  if (options.startTimeoutMs !== undefined) return options.startTimeoutMs
  const env = Number(process.env.KAFKATUNE_KAFKA_START_TIMEOUT_MS)
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_START_TIMEOUT_MS
}

/** Distinct free TCP ports on the loopback interface, all held open until every one is chosen. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer()
          server.unref()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((s) => {
    const address = s.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  })
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1'
}

interface NodePlan {
  nodeId: number
  name: string
  hostPort: number
}

/**
 * `KAFKA_*` variables for one node, the way the official image reads them: PLAINTEXT for clients on the host
 * (advertised as the published port), BROKER for traffic between nodes by container name, CONTROLLER for the KRaft quorum.
 */
function nodeEnvironment(node: NodePlan, all: NodePlan[], host: string, cluster: string, brokerConfig: Readonly<Record<string, string>>): Record<string, string> {
  const three = all.length === 3
  const rf = three ? '3' : '1'
  const minIsr = three ? '2' : '1'
  const custom = process.env.KAFKATUNE_KAFKA_JVM_OPTS
  const env: Record<string, string> = {
    CLUSTER_ID: cluster,
    KAFKA_NODE_ID: String(node.nodeId),
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_CONTROLLER_QUORUM_VOTERS: all.map((n) => `${n.nodeId}@${n.name}:${CONTROLLER_PORT}`).join(','),
    KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${CLIENT_PORT},CONTROLLER://0.0.0.0:${CONTROLLER_PORT},BROKER://0.0.0.0:${BROKER_PORT}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${node.hostPort},BROKER://${node.name}:${BROKER_PORT}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,BROKER:PLAINTEXT',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
    KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
    KAFKA_NUM_PARTITIONS: '1',
    KAFKA_DEFAULT_REPLICATION_FACTOR: rf,
    KAFKA_MIN_INSYNC_REPLICAS: minIsr,
    // One partition per internal topic: the first group join / transaction is quick on a test broker.
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: rf,
    KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: rf,
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: minIsr,
    KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '1',
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: rf,
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: minIsr,
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_NUM_PARTITIONS: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    // Fewer threads: several brokers share few cores.
    KAFKA_NUM_NETWORK_THREADS: '2',
    KAFKA_NUM_IO_THREADS: '2',
    KAFKA_NUM_RECOVERY_THREADS_PER_DATA_DIR: '1',
    KAFKA_BACKGROUND_THREADS: '2',
    KAFKA_LOG_CLEANER_THREADS: '1',
    // Quiet logs but keep the readiness line. Not KAFKA_LOG4J_ROOT_LOGLEVEL: Kafka 4.1's wrapper then drops the
    // root logger's appender and the broker prints nothing at all.
    KAFKA_LOG4J_LOGGERS:
      'kafka=WARN,org.apache.kafka=WARN,org.apache.kafka.controller=WARN,state.change.logger=WARN,kafka.server.KafkaRaftServer=INFO',
    KAFKA_HEAP_OPTS: custom !== undefined && custom.trim() !== '' ? custom.trim() : '-Xms256m -Xmx512m',
    KAFKA_JVM_PERFORMANCE_OPTS: '-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true',
    // A node that restarts or reconnects may come back on another address: look names up again after 2 s, not 30.
    KAFKA_OPTS: '-Dsun.net.inetaddr.ttl=2 -Dsun.net.inetaddr.negative.ttl=1',
  }
  if (three) {
    // Otherwise a node can wait minutes for shutdown approval from a controller quorum that is gone.
    env.KAFKA_CONTROLLED_SHUTDOWN_ENABLE = 'false'
  }
  for (const [name, value] of Object.entries(brokerConfig)) env[brokerConfigVariable(name)] = value
  return env
}

/**
 * A small detached Node process that removes this session's containers and network once the test process is
 * gone, however it ended (Ryuk is often unavailable, e.g. on Podman without registry access). `stop()` ends it by pid.
 */
const REAPER_SOURCE = `
const http = require('node:http')
const [ppid, label, target] = [Number(process.argv[1]), process.argv[2], JSON.parse(process.argv[3])]
function call(method, path) {
  return new Promise((resolve) => {
    const req = http.request({ ...target, method, path, timeout: 15000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve(body))
    })
    req.on('error', () => resolve(''))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}
async function reap() {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }))
  let containers = []
  try { containers = JSON.parse(await call('GET', '/containers/json?all=1&filters=' + filters)) } catch {}
  await Promise.all(containers.map((c) => call('DELETE', '/containers/' + c.Id + '?force=1&v=1')))
  let networks = []
  try { networks = JSON.parse(await call('GET', '/networks?filters=' + filters)) } catch {}
  await Promise.all(networks.map((n) => call('DELETE', '/networks/' + n.Id)))
}
setInterval(() => {
  try { process.kill(ppid, 0) } catch { reap().finally(() => process.exit(0)) }
}, 1000)
`

interface Reaper {
  stop(): void
}

/** Start the reaper when the runtime is reachable over a unix socket or plain HTTP (TLS engines have Ryuk). */
function startReaper(client: RuntimeClient, session: string): Reaper {
  const modem = ((client.container.dockerode as unknown as { modem?: Record<string, unknown> }).modem ?? {})
  let target: Record<string, unknown> | undefined
  if (typeof modem.socketPath === 'string') target = { socketPath: modem.socketPath }
  else if (modem.protocol === 'http' && typeof modem.host === 'string') target = { host: modem.host, port: modem.port }
  if (target === undefined) return { stop: () => undefined }
  const child = spawn(process.execPath, ['-e', REAPER_SOURCE, String(process.pid), `${LABEL_SESSION}=${session}`, JSON.stringify(target)], {
    detached: true,
    stdio: 'ignore',
  })
  child.on('error', () => undefined)
  child.unref()
  return {
    stop: () => {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
    },
  }
}

/** Remove every container and network of one session (force, volumes too); errors are collected, not thrown. */
async function removeSession(client: RuntimeClient, session: string): Promise<void> {
  const dockerode = client.container.dockerode
  const filters = { label: [`${LABEL_SESSION}=${session}`] }
  const containers = await dockerode.listContainers({ all: true, filters }).catch(() => [])
  await Promise.all(containers.map((c) => dockerode.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)))
  const networks = await dockerode.listNetworks({ filters }).catch(() => [])
  await Promise.all(networks.map((n) => dockerode.getNetwork(n.Id).remove().catch(() => undefined)))
}

/** The last log lines of every container of a session, for error messages. */
async function sessionLogs(client: RuntimeClient, session: string): Promise<string> {
  const dockerode = client.container.dockerode
  const containers = await dockerode.listContainers({ all: true, filters: { label: [`${LABEL_SESSION}=${session}`] } }).catch(() => [])
  const parts = await Promise.all(
    containers.map(async (c) => `--- ${c.Names[0] ?? c.Id} (${c.State}):\n${lastLines(await containerLog(client.container.getById(c.Id)), 25)}`),
  )
  return parts.join('\n')
}

async function containerLog(container: DockerContainer): Promise<string> {
  try {
    const raw: unknown = await container.logs({ stdout: true, stderr: true, follow: false })
    return Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw)
  } catch {
    return ''
  }
}

function countReady(log: string): number {
  return log.split(READY_LINE).length - 1
}

function lastLines(log: string, n = 40): string {
  // Docker's multiplexed log frames carry 8 binary header bytes; drop what is not printable.
  return log
    .replace(/[\u0000-\u0008\u000e-\u001f]/g, '')
    .split('\n')
    .slice(-n)
    .join('\n')
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

async function waitForReadyCount(container: DockerContainer, count: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const log = await containerLog(container)
    if (countReady(log) >= count) return
    const state = await container.inspect().then(
      (i) => i.State,
      () => undefined,
    )
    if (state !== undefined && !state.Running) {
      throw new KafkatuneError('HARNESS', `kafkatune: ${what} exited (code ${state.ExitCode}) before it was ready; last lines:\n${lastLines(log)}`, {
        retriable: false,
      })
    }
    if (Date.now() >= deadline) {
      throw new KafkatuneError('HARNESS', `kafkatune: ${what} was not ready within ${timeoutMs} ms; last lines:\n${lastLines(log)}`, { retriable: false })
    }
    await sleep(200)
  }
}

async function waitForState(container: DockerContainer, running: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await container.inspect()).State.Running !== running) {
    if (Date.now() >= deadline) throw new Error(`container ${container.id} did not become ${running ? 'running' : 'stopped'} within ${timeoutMs} ms`)
    await sleep(100)
  }
}

/** Wait until the cluster reports `count` live brokers (a 3-node cluster is usable only then). */
async function waitForBrokerCount(brokers: string[], count: number, timeoutMs: number): Promise<void> {
  const admin = new Kafka({ clientId: 'kafkatune-harness', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
  const deadline = Date.now() + timeoutMs
  let seen = 0
  try {
    for (;;) {
      try {
        await admin.connect()
        seen = (await admin.describeCluster()).brokers.length
        if (seen >= count) return
      } catch {
        // Not up yet.
      }
      if (Date.now() >= deadline) {
        throw new KafkatuneError('HARNESS', `kafkatune: the container cluster showed ${seen} of ${count} brokers within ${timeoutMs} ms`, { retriable: false })
      }
      await sleep(250)
    }
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** Docker answers 304 (Not Modified) when a container is already in the requested state. */
function ignoreNotModified(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode === 304) return
  throw new KafkatuneError('HARNESS', `kafkatune: container operation failed: ${(err as Error).message}`, { cause: err, retriable: false })
}

function nodeControl(
  plan: NodePlan,
  container: DockerContainer,
  network: DockerNetwork,
  networkName: string,
  host: string,
  timeoutMs: number,
  name: string,
): NodeControl {
  const what = `Kafka node ${plan.nodeId} (container ${name})`
  let lastAddress: string | undefined
  return {
    nodeId: plan.nodeId,
    brokerAddress: `${host}:${plan.hostPort}`,
    pid: undefined,
    async kill() {
      await container.kill({ signal: 'SIGKILL' }).catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 409) ignoreNotModified(err)
      })
      await waitForState(container, false, 30_000)
    },
    async stop() {
      await container.stop({ t: STOP_GRACE_S }).catch(ignoreNotModified)
      await waitForState(container, false, (STOP_GRACE_S + 20) * 1000)
    },
    async start() {
      const before = countReady(await containerLog(container))
      await container.start().catch(ignoreNotModified)
      await waitForReadyCount(container, before + 1, timeoutMs, what)
    },
    async pause() {
      await container.pause()
    },
    async resume() {
      await container.unpause()
    },
    async disconnect() {
      const info = await container.inspect()
      const address = info.NetworkSettings.Networks[networkName]?.IPAddress
      if (address !== undefined && address !== '') lastAddress = address
      await network.disconnect({ Container: container.id, Force: true })
    },
    async connect() {
      // Back on its old address when the runtime allows it (Podman does; Docker only on networks with a configured
      // subnet): the other brokers may still hold the old address of its name.
      if (lastAddress !== undefined) {
        try {
          await network.connect({ Container: container.id, EndpointConfig: { IPAMConfig: { IPv4Address: lastAddress } } })
          return
        } catch {
          // Fall through: any free address.
        }
      }
      await network.connect({ Container: container.id })
    },
  }
}

function portCollision(err: unknown): boolean {
  return /address already in use|port is already allocated|bind/i.test(String((err as Error)?.message ?? err))
}

async function startCluster(
  tc: Testcontainers,
  client: RuntimeClient,
  image: string,
  nodeCount: 1 | 3,
  timeoutMs: number,
  session: string,
  brokerConfig: Readonly<Record<string, string>>,
): Promise<KafkaHandle> {
  const host = client.info.containerRuntime.host
  const labels = { [LABEL_MANAGED]: 'true', [LABEL_SESSION]: session }
  const short = session.slice(0, 8)
  const networkName = `kafkatune-${short}`
  const network = await client.network.create({ Name: networkName, CheckDuplicate: true, Labels: labels })
  const ports = await freePorts(nodeCount)
  // Nodes find each other by container name, which the runtime's DNS resolves on a user-defined network. Not network
  // aliases: Testcontainers then attaches the default network too, and a disconnected node would still reach the
  // others through it.
  const plans: NodePlan[] = ports.map((hostPort, i) => ({ nodeId: i + 1, name: `kafkatune-${short}-kafka-${i + 1}`, hostPort }))
  const cluster = clusterId()

  // Bind published ports to loopback when the runtime is local: the broker is for this machine's tests only.
  class KafkaNodeContainer extends tc.GenericContainer {
    bindPortsTo(ip: string): this {
      for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
        for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = ip
      }
      return this
    }
  }

  // allSettled: on a failure every other node has been created too, so removing the session finds them all.
  const settled = await Promise.allSettled(
    plans.map((plan) => {
      let container = new KafkaNodeContainer(image)
        .withName(plan.name)
        .withHostname(`kafka-${plan.nodeId}`)
        .withNetworkMode(networkName)
        .withLabels(labels)
        .withEnvironment(nodeEnvironment(plan, plans, host, cluster, brokerConfig))
        .withExposedPorts({ container: CLIENT_PORT, host: plan.hostPort })
        .withWaitStrategy(tc.Wait.forLogMessage(READY_LINE))
        .withStartupTimeout(timeoutMs)
      if (isLoopback(host)) container = container.bindPortsTo('127.0.0.1')
      return container.start()
    }),
  )
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  const started = settled.map((r) => (r as PromiseFulfilledResult<StartedContainer>).value)
  const brokers = plans.map((p) => `${host}:${p.hostPort}`)
  if (nodeCount === 3) await waitForBrokerCount(brokers, 3, timeoutMs)

  const dockerNetwork = client.network.getById(network.id)
  const nodes = plans.map((plan, i) => {
    const s = started[i] as StartedContainer
    return nodeControl(plan, client.container.getById(s.getId()), dockerNetwork, networkName, host, timeoutMs, s.getName())
  })
  return { brokers, mode: 'container', nodes, stop: async () => undefined }
}

/**
 * Start a 1- or 3-node Kafka cluster in containers (image from `options.image`, else `KAFKATUNE_KAFKA_IMAGE`,
 * else {@link DEFAULT_KAFKA_IMAGE}); `stop()` removes every container and the network.
 * @example
 * const kafka = await startContainerKafka({ nodes: 3 })
 * try { await kafka.nodes[0]?.disconnect?.() } finally { await kafka.stop() }
 */
export async function startContainerKafka(options: StartKafkaOptions = {}): Promise<KafkaHandle> {
  const nodeCount = options.nodes ?? 1
  if (nodeCount !== 1 && nodeCount !== 3) {
    throw new KafkatuneError('HARNESS', `kafkatune: nodes must be 1 or 3, got ${String(nodeCount)}`, { retriable: false })
  }
  const brokerConfig = checkBrokerConfig(options.brokerConfig)
  if (options.security !== undefined) {
    throw new ConfigError(
      [{ option: 'security', message: "secured listeners are started in local mode only, not in container mode: use mode 'local' (KAFKATUNE_KAFKA_MODE=local) with Java 17+" }],
      'startKafka() options',
    )
  }
  const envImage = process.env.KAFKATUNE_KAFKA_IMAGE
  const image = options.image ?? (envImage !== undefined && envImage !== '' ? envImage : DEFAULT_KAFKA_IMAGE)
  const timeoutMs = startTimeout(options)
  const tc = await loadTestcontainers()
  const client = await runtimeClient(tc)

  for (let attempt = 1; ; attempt++) {
    const session = randomUUID()
    const reaper = startReaper(client, session)
    try {
      const handle = await startCluster(tc, client, image, nodeCount, timeoutMs, session, brokerConfig)
      let stopping: Promise<void> | undefined
      return {
        ...handle,
        stop: () =>
          (stopping ??= removeSession(client, session).finally(() => {
            reaper.stop()
          })),
      }
    } catch (err) {
      const logs = err instanceof KafkatuneError ? '' : await sessionLogs(client, session)
      await removeSession(client, session)
      reaper.stop()
      if (attempt < 2 && portCollision(err)) continue
      if (err instanceof KafkatuneError) throw err
      const message = (err as Error)?.message ?? String(err)
      const hint = /no such image|not found|pull|manifest unknown|unauthorized/i.test(message)
        ? ` Is the image '${image}' available? Offline (e.g. Podman in CI) build one with scripts/build-kafka-image.sh and set KAFKATUNE_KAFKA_IMAGE to what it prints.`
        : ''
      throw new KafkatuneError('HARNESS', `kafkatune: could not start Kafka in containers (${image}, ${nodeCount} node${nodeCount === 1 ? '' : 's'}): ${message}.${hint}${logs === '' ? '' : `\n${logs}`}`, {
        cause: err,
        retriable: false,
      })
    }
  }
}
