/**
 * Container mode of `kafkatune/testing`: Apache Kafka (KRaft) in containers through Testcontainers, on Docker
 * or on Podman's Docker-compatible API. The image is configured by `KAFKA_*` variables the way the official
 * `apache/kafka` image is, so `apache/kafka:<version>` and the image `scripts/build-kafka-image.sh` builds
 * offline behave the same. `testcontainers` is an optional peer dependency, loaded only here.
 */
import { randomUUID } from 'node:crypto'
import { KafkatuneError } from '../errors.js'
import { checkBrokerConfig } from './broker-config.js'
import { brokerPlan, CONTAINER_PORTS, containerEnvironment } from './broker-plan.js'
import type { ContainerNodeAddress } from './broker-plan.js'
import { loadTestcontainers, runtimeClient } from './container-runtime.js'
import type { DockerContainer, RuntimeClient, Testcontainers } from './container-runtime.js'
import { planContainerSecurity, requireKafkatuneImage } from './container-security.js'
import type { ContainerSecurity } from './container-security.js'
import { containerLog, lastLines, LABEL_MANAGED, LABEL_SESSION, removeSession, sessionLogs, startReaper } from './container-session.js'
import { KAFKA_VERSION } from './jars.js'
import { freePorts, LOOPBACK, newClusterId, pollUntil, READY_LINE, startTimeout, STOP_GRACE_MS, waitForBrokerCount } from './lifecycle.js'
import { checkSecurity, scramCredentials, securityInfo } from './security.js'
import type { KafkaHandle, NodeControl, SecureListener, StartKafkaOptions } from './types.js'

export { containerRuntimeAvailable } from './container-runtime.js'

/** The image container mode runs unless `image` / `KAFKATUNE_KAFKA_IMAGE` names another: the official one, same version as the local jars. */
export const DEFAULT_KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`

type DockerNetwork = ReturnType<RuntimeClient['network']['getById']>
type StartedContainer = Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>

interface NodePlan extends ContainerNodeAddress {
  nodeId: number
}

/**
 * JVM and logging variables of the image's start script (not broker properties: the wrapper keeps these for itself).
 * The same small heap and serial GC as local mode; env KAFKATUNE_KAFKA_JVM_OPTS replaces the heap options.
 */
function jvmEnvironment(): Record<string, string> {
  const custom = process.env.KAFKATUNE_KAFKA_JVM_OPTS
  return {
    // Quiet logs but keep the readiness line. Not KAFKA_LOG4J_ROOT_LOGLEVEL: Kafka 4.1's wrapper then drops the
    // root logger's appender and the broker prints nothing at all.
    KAFKA_LOG4J_LOGGERS:
      'kafka=WARN,org.apache.kafka=WARN,org.apache.kafka.controller=WARN,state.change.logger=WARN,kafka.server.KafkaRaftServer=INFO',
    KAFKA_HEAP_OPTS: custom !== undefined && custom.trim() !== '' ? custom.trim() : '-Xms256m -Xmx512m',
    KAFKA_JVM_PERFORMANCE_OPTS: '-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true',
    // A node that restarts or reconnects may come back on another address: look names up again after 2 s, not 30.
    KAFKA_OPTS: '-Dsun.net.inetaddr.ttl=2 -Dsun.net.inetaddr.negative.ttl=1',
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1'
}

function countReady(log: string): number {
  return log.split(READY_LINE).length - 1
}

async function waitForReadyCount(container: DockerContainer, count: number, timeoutMs: number, what: string): Promise<void> {
  let log = ''
  const ready = await pollUntil(
    async () => {
      log = await containerLog(container)
      if (countReady(log) >= count) return true
      const state = await container.inspect().then(
        (i) => i.State,
        () => undefined,
      )
      if (state !== undefined && !state.Running) {
        throw new KafkatuneError('HARNESS', `kafkatune: ${what} exited (code ${state.ExitCode}) before it was ready; last lines:\n${lastLines(log)}`, {
          retriable: false,
        })
      }
      return false
    },
    timeoutMs,
    200,
  )
  if (!ready) throw new KafkatuneError('HARNESS', `kafkatune: ${what} was not ready within ${timeoutMs} ms; last lines:\n${lastLines(log)}`, { retriable: false })
}

async function waitForState(container: DockerContainer, running: boolean, timeoutMs: number): Promise<void> {
  if (!(await pollUntil(async () => (await container.inspect()).State.Running === running, timeoutMs, 100))) {
    throw new Error(`container ${container.id} did not become ${running ? 'running' : 'stopped'} within ${timeoutMs} ms`)
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
  brokerAddress: string,
  timeoutMs: number,
  name: string,
): NodeControl {
  const what = `Kafka node ${plan.nodeId} (container ${name})`
  let lastAddress: string | undefined
  return {
    nodeId: plan.nodeId,
    brokerAddress,
    pid: undefined,
    async kill() {
      await container.kill({ signal: 'SIGKILL' }).catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 409) ignoreNotModified(err)
      })
      await waitForState(container, false, 30_000)
    },
    async stop() {
      // The runtime's stop is SIGTERM, then SIGKILL after the grace period (and it copes with a paused container).
      await container.stop({ t: STOP_GRACE_MS / 1000 }).catch(ignoreNotModified)
      await waitForState(container, false, STOP_GRACE_MS + 20_000)
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
  security: ContainerSecurity | undefined,
): Promise<KafkaHandle> {
  const host = client.info.containerRuntime.host
  const labels = { [LABEL_MANAGED]: 'true', [LABEL_SESSION]: session }
  const short = session.slice(0, 8)
  const networkName = `kafkatune-${short}`
  const secured = security?.plan.listeners ?? []
  const perNode = 1 + secured.length
  const ports = await freePorts(nodeCount * perNode)
  // Nodes find each other by container name, which the runtime's DNS resolves on a user-defined network. Not network
  // aliases: Testcontainers then attaches the default network too, and a disconnected node would still reach the
  // others through it.
  const plans: NodePlan[] = Array.from({ length: nodeCount }, (_, i) => {
    const mine = ports.slice(i * perNode, (i + 1) * perNode)
    return { nodeId: i + 1, name: `kafkatune-${short}-kafka-${i + 1}`, hostPort: mine[0] ?? 0, secure: mine.slice(1) }
  })
  const layout = { kind: 'container', advertisedHost: host, nodes: plans } as const
  const clusterId = newClusterId()
  const addScram = scramCredentials(security?.plan)
  // Before anything is created: a brokerConfig the image cannot take fails here.
  const environments = plans.map((plan) => ({
    ...containerEnvironment(brokerPlan({ nodeCount, nodeId: plan.nodeId, clusterId, network: layout, security: security?.plan, brokerConfig }), addScram),
    ...jvmEnvironment(),
  }))
  const network = await client.network.create({ Name: networkName, CheckDuplicate: true, Labels: labels })

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
    plans.map((plan, i) => {
      let container = new KafkaNodeContainer(image)
        .withName(plan.name)
        .withHostname(`kafka-${plan.nodeId}`)
        .withNetworkMode(networkName)
        .withLabels(labels)
        .withEnvironment(environments[i] ?? {})
        .withExposedPorts(
          { container: CONTAINER_PORTS.client, host: plan.hostPort },
          ...(plan.secure ?? []).map((hostPort, j) => ({ container: CONTAINER_PORTS.secure + j, host: hostPort })),
        )
        .withWaitStrategy(tc.Wait.forLogMessage(READY_LINE))
        .withStartupTimeout(timeoutMs)
      if (security !== undefined && security.files.length > 0) container = container.withCopyContentToContainer(security.files)
      if (isLoopback(host)) container = container.bindPortsTo(LOOPBACK)
      return container.start()
    }),
  )
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  const started = settled.map((r) => (r as PromiseFulfilledResult<StartedContainer>).value)
  const plaintext = plans.map((p) => `${host}:${p.hostPort}`)
  if (nodeCount === 3) await waitForBrokerCount(plaintext, 3, timeoutMs)
  // As in local mode: with secured listeners, `brokers` points at the first one listed.
  const brokers = security === undefined ? plaintext : plans.map((p) => `${host}:${p.secure?.[0] ?? p.hostPort}`)

  const dockerNetwork = client.network.getById(network.id)
  const nodes = plans.map((plan, i) => {
    const s = started[i] as StartedContainer
    return nodeControl(plan, client.container.getById(s.getId()), dockerNetwork, networkName, brokers[i] ?? '', timeoutMs, s.getName())
  })
  const handle: KafkaHandle = { brokers, mode: 'container', nodes, stop: async () => undefined }
  if (security === undefined) return handle
  const addresses = { plaintext } as Record<SecureListener | 'plaintext', string[]>
  secured.forEach((kind, j) => {
    addresses[kind] = plans.map((p) => `${host}:${p.secure?.[j] ?? 0}`)
  })
  return { ...handle, security: securityInfo(security.plan, addresses) }
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
  const wanted = checkSecurity(options.security)
  const envImage = process.env.KAFKATUNE_KAFKA_IMAGE
  const image = options.image ?? (envImage !== undefined && envImage !== '' ? envImage : DEFAULT_KAFKA_IMAGE)
  const timeoutMs = startTimeout(options)
  const tc = await loadTestcontainers()
  const client = await runtimeClient(tc)
  let security: ContainerSecurity | undefined
  if (wanted !== undefined) {
    await requireKafkatuneImage(client, image)
    // Made once: the certificates do not depend on the ports a retry picks.
    security = planContainerSecurity(wanted, client.info.containerRuntime.host)
  }

  for (let attempt = 1; ; attempt++) {
    const session = randomUUID()
    const reaper = startReaper(client, session)
    try {
      const handle = await startCluster(tc, client, image, nodeCount, timeoutMs, session, brokerConfig, security)
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
