/**
 * One local Kafka node: its server.properties written from the broker plan, its storage formatted, and the JVM
 * that runs it (start on the readiness line, SIGTERM with a grace period, SIGKILL, SIGSTOP/SIGCONT).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KafkatuneError } from '../errors.js'
import { serverPropertiesText } from './broker-plan.js'
import type { BrokerPlan } from './broker-plan.js'
import { spawnGuarded, unrefChild } from './children.js'
import type { GuardedChild } from './children.js'
import { javaExecutable, kafkaResource } from './jars.js'
import { READY_LINE, settlesWithin, STOP_GRACE_MS } from './lifecycle.js'
import type { NodeControl } from './types.js'

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
async function formatStorage(libs: string, propsFile: string, id: string, tail: LogTail, extraJvm: readonly string[], extraArgs: readonly string[]): Promise<void> {
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

/**
 * Write `plan` to `<dir>/server.properties` (owner-only: it can hold SASL secrets) and format the node's storage;
 * returns the file's path.
 */
export async function prepareNode(libs: string, dir: string, plan: BrokerPlan, extraJvm: readonly string[] = [], formatArgs: readonly string[] = []): Promise<string> {
  mkdirSync(dir, { recursive: true })
  const propsFile = join(dir, 'server.properties')
  writeFileSync(propsFile, serverPropertiesText(plan), { mode: 0o600 })
  await formatStorage(libs, propsFile, plan.clusterId, new LogTail(), extraJvm, formatArgs)
  return propsFile
}

export class LocalNode implements NodeControl {
  readonly nodeId: number
  readonly brokerAddress: string
  private child: GuardedChild | undefined
  private exitPromise: Promise<void> = Promise.resolve()
  private tail = new LogTail()

  constructor(
    nodeId: number,
    /** Where clients reach the node: its first secured listener, else PLAINTEXT. */
    brokerAddress: string,
    private readonly libs: string,
    private readonly propsFile: string,
    private readonly timeoutMs: number,
    private readonly extraJvm: string[] = [],
  ) {
    this.nodeId = nodeId
    this.brokerAddress = brokerAddress
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
    if (!(await settlesWithin(this.exitPromise, graceMs))) await this.kill()
  }

  async pause(): Promise<void> {
    if (!this.signal('SIGSTOP')) throw new KafkatuneError('HARNESS', `kafkatune: Kafka node ${this.nodeId} is not running`, { retriable: false })
  }

  async resume(): Promise<void> {
    if (!this.signal('SIGCONT')) throw new KafkatuneError('HARNESS', `kafkatune: Kafka node ${this.nodeId} is not running`, { retriable: false })
  }
}
