/**
 * Local mode of `kafkatune/testing`: a real Apache Kafka KRaft cluster (1 or 3 combined broker/controller nodes)
 * run from the cached Maven jars with Java 17+, each node configured by its broker plan (broker-plan.ts).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KafkatuneError } from '../errors.js'
import { checkBrokerConfig } from './broker-config.js'
import { brokerPlan } from './broker-plan.js'
import type { LocalNodePorts } from './broker-plan.js'
import { removeScratchDir, trackScratchDir } from './children.js'
import { ensureClassArchive } from './class-archive.js'
import { checkJava, ensureKafkaJars, KAFKA_VERSION } from './jars.js'
import { freePorts, LOOPBACK, newClusterId, startTimeout, waitForBrokerCount } from './lifecycle.js'
import { LocalNode, prepareNode } from './local-node.js'
import { checkSecurity, planSecurity, scramFormatArgs, securityInfo } from './security.js'
import type { SecurityPlan } from './security.js'
import type { KafkaHandle, KafkaSecurity, SecureListener, StartKafkaOptions } from './types.js'

async function startOnce(
  nodeCount: 1 | 3,
  libs: string,
  timeoutMs: number,
  extraJvm: string[],
  brokerConfig: Readonly<Record<string, string>>,
  security: KafkaSecurity | undefined,
): Promise<KafkaHandle> {
  const root = mkdtempSync(join(tmpdir(), 'kafkatune-kafka-'))
  trackScratchDir(root)
  let plan: SecurityPlan | undefined
  try {
    plan = security === undefined ? undefined : planSecurity(security, root)
  } catch (err) {
    removeScratchDir(root)
    throw err
  }
  const perNode = 2 + (plan?.listeners.length ?? 0)
  const ports = await freePorts(nodeCount * perNode)
  const layout: LocalNodePorts[] = []
  for (let i = 0; i < nodeCount; i++) {
    const mine = ports.slice(i * perNode, (i + 1) * perNode)
    layout.push({ plaintext: mine[0] ?? 0, controller: mine[1] ?? 0, secure: mine.slice(2) })
  }
  const network = { kind: 'local', host: LOOPBACK, nodes: layout } as const
  const clusterId = newClusterId()
  const nodes: LocalNode[] = []
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.kill()))
    removeScratchDir(root)
  }
  try {
    await Promise.all(
      layout.map(async (ports, i) => {
        const nodeId = i + 1
        const dir = join(root, `node-${nodeId}`)
        const node = brokerPlan({ nodeCount, nodeId, clusterId, network, logDir: join(dir, 'data'), security: plan, brokerConfig })
        const propsFile = await prepareNode(libs, dir, node, extraJvm, scramFormatArgs(plan))
        const address = `${LOOPBACK}:${ports.secure[0] ?? ports.plaintext}`
        nodes.push(new LocalNode(nodeId, address, libs, propsFile, timeoutMs, extraJvm))
      }),
    )
    nodes.sort((a, b) => a.nodeId - b.nodeId)
    await Promise.all(nodes.map((n) => n.start()))
    const brokers = nodes.map((n) => n.brokerAddress)
    const plaintext = layout.map((p) => `${LOOPBACK}:${p.plaintext}`)
    if (nodeCount > 1) await waitForBrokerCount(plaintext, nodeCount, timeoutMs)
    let stopped: Promise<void> | undefined
    const handle: KafkaHandle = {
      brokers,
      mode: 'local',
      nodes,
      stop: () => (stopped ??= stopAll()),
    }
    if (plan === undefined) return handle
    const addresses = { plaintext } as Record<SecureListener | 'plaintext', string[]>
    plan.listeners.forEach((kind, i) => {
      addresses[kind] = layout.map((p) => `${LOOPBACK}:${p.secure[i] ?? 0}`)
    })
    return { ...handle, security: securityInfo(plan, addresses) }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** Start a real Apache Kafka KRaft cluster (1 or 3 combined broker/controller nodes) from the cached jars. */
export async function startLocalKafka(options: StartKafkaOptions = {}): Promise<KafkaHandle> {
  const nodeCount = options.nodes ?? 1
  if (nodeCount !== 1 && nodeCount !== 3) {
    throw new KafkatuneError('HARNESS', `kafkatune: startKafka({ nodes }) takes 1 or 3, got ${JSON.stringify(nodeCount)}`, { retriable: false })
  }
  const brokerConfig = checkBrokerConfig(options.brokerConfig)
  const security = checkSecurity(options.security)
  checkJava()
  const libs = await ensureKafkaJars()
  const timeoutMs = startTimeout(options)
  const archive = await ensureClassArchive(libs, timeoutMs)
  const extraJvm = archive === undefined ? [] : [`-XX:SharedArchiveFile=${archive}`]
  // Free ports are picked before the JVM binds them, so another process can win the race: retry on that only.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(nodeCount, libs, timeoutMs, extraJvm, brokerConfig, security)
    } catch (err) {
      const portInUse = err instanceof KafkatuneError && err.details.portInUse === true
      if (!portInUse || attempt >= 3) throw err
    }
  }
}

export { KAFKA_VERSION }
