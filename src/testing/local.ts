import { createHash, randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { checkBrokerConfig } from './broker-config.js'
import { KafkatuneError } from '../errors.js'
import { removeScratchDir, spawnGuarded, trackScratchDir, unrefChild } from './children.js'
import type { GuardedChild } from './children.js'
import { checkJava, ensureKafkaJars, javaExecutable, javaVersion, kafkaResource, KAFKA_VERSION } from './jars.js'
import { checkSecurity, planSecurity, scramFormatArgs, securityInfo, securityProperties } from './security.js'
import type { SecurityPlan } from './security.js'
import type { KafkaHandle, KafkaSecurity, NodeControl, SecureListener, StartKafkaOptions } from './types.js'

const READY_LINE = 'Kafka Server started'
const DEFAULT_START_TIMEOUT_MS = 120_000
const STOP_GRACE_MS = 10_000
const HOST = '127.0.0.1'

/**
 * JVM flags: small heap, serial GC and C1 only, because tests share few cores with several brokers
 * (C1 starts a broker markedly faster; set KAFKATUNE_KAFKA_JVM_OPTS for full C2 peak speed).
 */
function jvmOptions(): string[] {
  const custom = process.env.KAFKATUNE_KAFKA_JVM_OPTS
  const base =
    custom !== undefined && custom.trim() !== ''
      ? custom.trim().split(/\s+/)
      : ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:+ExitOnOutOfMemoryError']
  return [...base, '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${kafkaResource('log4j2.properties')}`]
}

function startTimeout(options: StartKafkaOptions): number {
  if (options.startTimeoutMs !== undefined) return options.startTimeoutMs
  const env = Number(process.env.KAFKATUNE_KAFKA_START_TIMEOUT_MS)
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_START_TIMEOUT_MS
}

/** `count` distinct free TCP ports on the loopback interface (all held open until all are picked). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject)
          server.listen(0, HOST, () => {
            const address = server.address()
            resolve(typeof address === 'object' && address !== null ? address.port : 0)
          })
        }),
      )
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  }
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, never starting with '-' (as Uuid.randomUuid). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

interface NodeLayout {
  nodeId: number
  port: number
  controllerPort: number
  dir: string
  /** One port per secured listener, in the plan's order. */
  securePorts: number[]
}

function serverProperties(node: NodeLayout, all: NodeLayout[], extra: Readonly<Record<string, string>> = {}, plan?: SecurityPlan): string {
  const three = all.length === 3
  const rf = three ? 3 : 1
  const minIsr = three ? 2 : 1
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.nodeId,
    'controller.quorum.voters': all.map((n) => `${n.nodeId}@${HOST}:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://${HOST}:${node.port},CONTROLLER://${HOST}:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(node.dir, 'data'),
    'auto.create.topics.enable': true,
    'num.partitions': 1,
    'default.replication.factor': rf,
    'min.insync.replicas': minIsr,
    // One partition per internal topic: the first group join / transaction is quick on a test broker.
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': minIsr,
    'share.coordinator.state.topic.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Fewer threads: several brokers share two cores.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 2,
    'log.cleaner.threads': 1,
  }
  if (plan !== undefined) Object.assign(props, securityProperties(plan, HOST, node.port, node.controllerPort, node.securePorts))
  if (three) {
    // Otherwise a node can wait minutes for shutdown approval from a controller quorum that is gone.
    props['controlled.shutdown.enable'] = false
  }
  return `${Object.entries({ ...props, ...extra })
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')}\n`
}

/** Keep the last lines a JVM printed, for error messages. */
class LogTail {
  private readonly lines: string[] = []
  constructor(private readonly max = 80) {}
  push(line: string): void {
    this.lines.push(line)
    if (this.lines.length > this.max) this.lines.shift()
  }
  text(): string {
    return this.lines.join('\n')
  }
  includes(fragment: string): boolean {
    return this.lines.some((l) => l.includes(fragment))
  }
}

function onLines(child: GuardedChild, each: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop() ?? ''
      for (const line of parts) each(line)
    })
  }
}

function exited(child: GuardedChild): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Run `kafka.tools.StorageTool format` for one node; a fresh data folder each start. */
async function formatStorage(libs: string, propsFile: string, id: string, tail: LogTail, extraJvm: string[] = [], extraArgs: string[] = []): Promise<void> {
  const child = spawnGuarded(javaExecutable(), [
    ...extraJvm,
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Dlog4j2.configurationFile=${kafkaResource('log4j2.properties')}`,
    '-cp',
    join(libs, '*'),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    id,
    '-c',
    propsFile,
    ...extraArgs,
  ])
  onLines(child, (line) => tail.push(line))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (c) => resolve(c))
  })
  if (code !== 0) {
    // The arguments carry SCRAM passwords: the message shows only the tool's output.
    throw new KafkatuneError('HARNESS', `kafkatune: formatting Kafka storage failed (exit ${code}):\n${tail.text()}`, { retriable: false })
  }
}

class LocalNode implements NodeControl {
  readonly nodeId: number
  readonly brokerAddress: string
  private child: GuardedChild | undefined
  private exitPromise: Promise<void> = Promise.resolve()
  private tail = new LogTail()

  constructor(
    private readonly layout: NodeLayout,
    private readonly libs: string,
    private readonly propsFile: string,
    private readonly timeoutMs: number,
    private readonly extraJvm: string[] = [],
  ) {
    this.nodeId = layout.nodeId
    this.brokerAddress = `${HOST}:${layout.securePorts[0] ?? layout.port}`
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined
  }

  /** True when the node's JVM is running (possibly paused). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** The last lines the node printed. */
  logTail(): string {
    return this.tail.text()
  }

  async start(): Promise<void> {
    if (this.running) return
    this.tail = new LogTail()
    const tail = this.tail
    const child = spawnGuarded(javaExecutable(), [...jvmOptions(), ...this.extraJvm, '-cp', join(this.libs, '*'), 'kafka.Kafka', this.propsFile])
    this.child = child
    this.exitPromise = exited(child)
    await new Promise<void>((resolve, reject) => {
      let settled = false
      const finish = (err?: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err === undefined) {
          unrefChild(child)
          resolve()
        } else reject(err)
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
        finish(
          new KafkatuneError(
            'HARNESS',
            `kafkatune: Kafka node ${this.nodeId} did not report '${READY_LINE}' within ${this.timeoutMs} ms. Last output:\n${tail.text()}`,
            { retriable: true, details: { nodeId: this.nodeId } },
          ),
        )
      }, this.timeoutMs)
      onLines(child, (line) => {
        tail.push(line)
        if (line.includes(READY_LINE)) finish()
      })
      child.once('error', (err) =>
        finish(new KafkatuneError('HARNESS', `kafkatune: cannot start Java for Kafka node ${this.nodeId}: ${err.message}`, { cause: err })),
      )
      // 'close' (not 'exit'): by then every line the JVM printed has been read into the tail.
      child.once('close', (code, signal) =>
        finish(
          new KafkatuneError(
            'HARNESS',
            `kafkatune: Kafka node ${this.nodeId} exited before it was ready (${signal ?? `exit ${code}`}). Last output:\n${tail.text()}`,
            { retriable: true, details: { nodeId: this.nodeId, portInUse: tail.includes('Address already in use') } },
          ),
        ),
      )
    })
  }

  private signal(signal: NodeJS.Signals): boolean {
    const pid = this.child?.pid
    if (pid === undefined || !this.running) return false
    // Keep Node alive while we wait for the exit this signal may cause.
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.child?.ref()
    try {
      process.kill(pid, signal)
      return true
    } catch {
      return false
    }
  }

  async kill(): Promise<void> {
    if (this.signal('SIGKILL')) await this.exitPromise
  }

  async stop(): Promise<void> {
    await this.terminate(STOP_GRACE_MS)
  }

  /** SIGTERM, then SIGKILL when the JVM is still there after `graceMs`. */
  async terminate(graceMs: number): Promise<void> {
    if (!this.running) return
    this.signal('SIGTERM')
    // A paused JVM only sees SIGTERM once it runs again.
    this.signal('SIGCONT')
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs)
    })
    const result = await Promise.race([this.exitPromise.then(() => 'exited' as const), grace])
    clearTimeout(timer)
    if (result === 'timeout') await this.kill()
  }

  async pause(): Promise<void> {
    if (!this.signal('SIGSTOP')) throw new KafkatuneError('HARNESS', `kafkatune: Kafka node ${this.nodeId} is not running`, { retriable: false })
  }

  async resume(): Promise<void> {
    if (!this.signal('SIGCONT')) throw new KafkatuneError('HARNESS', `kafkatune: Kafka node ${this.nodeId} is not running`, { retriable: false })
  }
}

/** Wait until an admin client on `brokers` sees `count` brokers. */
async function waitForBrokerCount(brokers: string[], count: number, timeoutMs: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'kafkatune-harness', brokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  const deadline = Date.now() + timeoutMs
  let seen = 0
  let lastError: unknown
  let connected = false
  try {
    while (Date.now() < deadline) {
      try {
        if (!connected) {
          await admin.connect()
          connected = true
        }
        seen = (await admin.describeCluster()).brokers.length
        if (seen >= count) return
      } catch (err) {
        lastError = err
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
  throw new KafkatuneError('HARNESS', `kafkatune: the cluster shows ${seen} of ${count} brokers after ${timeoutMs} ms`, { cause: lastError })
}

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
  const layouts: NodeLayout[] = []
  for (let i = 0; i < nodeCount; i++) {
    const mine = ports.slice(i * perNode, (i + 1) * perNode)
    layouts.push({ nodeId: i + 1, port: mine[0] ?? 0, controllerPort: mine[1] ?? 0, dir: join(root, `node-${i + 1}`), securePorts: mine.slice(2) })
  }
  const id = clusterId()
  const nodes: LocalNode[] = []
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.kill()))
    removeScratchDir(root)
  }
  try {
    await Promise.all(
      layouts.map(async (layout) => {
        mkdirSync(layout.dir, { recursive: true })
        const propsFile = join(layout.dir, 'server.properties')
        writeFileSync(propsFile, serverProperties(layout, layouts, brokerConfig, plan), { mode: 0o600 })
        await formatStorage(libs, propsFile, id, new LogTail(), extraJvm, scramFormatArgs(plan))
        nodes.push(new LocalNode(layout, libs, propsFile, timeoutMs, extraJvm))
      }),
    )
    nodes.sort((a, b) => a.nodeId - b.nodeId)
    await Promise.all(nodes.map((n) => n.start()))
    const brokers = nodes.map((n) => n.brokerAddress)
    const plaintext = layouts.map((l) => `${HOST}:${l.port}`)
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
      addresses[kind] = layouts.map((l) => `${HOST}:${l.securePorts[i] ?? 0}`)
    })
    return { ...handle, security: securityInfo(plan, addresses) }
  } catch (err) {
    await stopAll()
    throw err
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * A class-data-sharing archive of the broker's classes (JDK 13+ dynamic AppCDS), built once per cache and Java
 * by one training start; later JVMs map it instead of loading ~5,000 classes (about 1-4 s less per start here).
 * Returns undefined (start without it) while another process builds it, after a failed build, or when
 * KAFKATUNE_KAFKA_CDS=0.
 */
async function ensureClassArchive(libs: string, timeoutMs: number): Promise<string | undefined> {
  if (process.env.KAFKATUNE_KAFKA_CDS === '0') return undefined
  const tag = createHash('sha256').update(javaVersion()).update(libs).digest('hex').slice(0, 12)
  const archive = join(dirname(libs), `broker-${tag}.jsa`)
  if (existsSync(archive)) return archive
  // Two failed builds and we stop trying (delete the .failed file to try again).
  const failedFile = `${archive}.failed`
  const failures = existsSync(failedFile) ? Number(readFileSync(failedFile, 'utf8').split('\n')[0]) || 1 : 0
  if (failures >= 2) return undefined
  const lock = `${archive}.lock`
  try {
    closeSync(openSync(lock, 'wx'))
    writeFileSync(lock, String(process.pid))
  } catch {
    const holder = Number(readFileSync(lock, 'utf8'))
    if (Number.isInteger(holder) && holder > 0 && pidAlive(holder)) return undefined
    // A stale lock from a process that died mid-build: take it over.
    writeFileSync(lock, String(process.pid))
  }
  const started = Date.now()
  process.stderr.write('kafkatune: building a class-data archive so later broker starts are faster (once)...\n')
  const tmp = `${archive}.tmp-${process.pid}`
  const root = mkdtempSync(join(tmpdir(), 'kafkatune-cds-'))
  trackScratchDir(root)
  try {
    const [port = 0, controllerPort = 0] = await freePorts(2)
    const layout: NodeLayout = { nodeId: 1, port, controllerPort, dir: join(root, 'node-1'), securePorts: [] }
    mkdirSync(layout.dir, { recursive: true })
    const propsFile = join(layout.dir, 'server.properties')
    writeFileSync(propsFile, serverProperties(layout, [layout]))
    await formatStorage(libs, propsFile, clusterId(), new LogTail())
    const node = new LocalNode(layout, libs, propsFile, timeoutMs, [`-XX:ArchiveClassesAtExit=${tmp}`])
    try {
      await node.start()
    } finally {
      // The archive is written while the JVM exits normally, so SIGTERM (graceful), not SIGKILL, and a long
      // grace: shutting down and writing ~50 MB of class data takes a while on a busy machine.
      await node.terminate(timeoutMs)
    }
    if (!existsSync(tmp) || statSync(tmp).size === 0) throw new Error('the JVM wrote no archive')
    renameSync(tmp, archive)
    process.stderr.write(`kafkatune: class-data archive ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    return archive
  } catch (err) {
    writeFileSync(failedFile, `${failures + 1}\n${err instanceof Error ? err.message : String(err)}\n`)
    process.stderr.write(`kafkatune: no class-data archive (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); brokers start without it\n`)
    return undefined
  } finally {
    rmSync(tmp, { force: true })
    removeScratchDir(root)
    try {
      unlinkSync(lock)
    } catch {
      // already gone
    }
  }
}

/** Start a real Apache Kafka KRaft cluster (1 or 3 combined broker/controller nodes) from the cached jars. */
export async function startLocalKafka(options: StartKafkaOptions = {}): Promise<KafkaHandle> {
  const nodeCount = options.nodes ?? 1
  if (nodeCount !== 1 && nodeCount !== 3) {
    throw new KafkatuneError('HARNESS', `kafkatune: startKafka({ nodes }) takes 1 or 3, got ${String(nodeCount)}`, { retriable: false })
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
