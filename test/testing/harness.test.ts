/**
 * The test harness itself: mode precedence, clear errors, per-node control on a real 3-node cluster, and no
 * JVM outliving the Node process that started it.
 */
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { build } from 'esbuild'
import { Kafka, logLevel } from 'kafkajs'
import { ConfigError, isKafkatuneError } from '../../src/errors.js'
import { brokerConfigVariable } from '../../src/testing/broker-config.js'
import { KAFKA_VERSION, startKafka, startLocalKafka } from '../../src/testing/index.js'
import type { KafkaHandle } from '../../src/testing/index.js'
import { ensureKafkaJars, pomKafkaVersion } from '../../src/testing/jars.js'
import { brokerSettings, waitFor } from '../helpers/kafka.js'

const savedEnv = { ...process.env }
const scratch: string[] = []
const strayPids = new Set<number>()

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
  Object.assign(process.env, savedEnv)
})

afterAll(() => {
  for (const pid of strayPids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone, as it should be
    }
  }
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
})

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  scratch.push(dir)
  return dir
}

function pidAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie (exited, not yet reaped) counts as dead.
  const state = processState(pid)
  return state !== undefined && state !== 'Z'
}

/** The one-letter scheduler state from /proc (R, S, T for stopped, Z for zombie). */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/** The data folder of a broker JVM: its last argument is `<root>/node-N/server.properties`. */
function dataRootOf(pid: number): string {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '')
  return dirname(dirname(args[args.length - 1] ?? ''))
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  )
}

describe('startKafka: modes and errors', () => {
  it('declares the same Kafka version as kafka/pom.xml', () => {
    expect(pomKafkaVersion()).toBe(KAFKA_VERSION)
    expect(KAFKA_VERSION).toMatch(/^4\.1\.\d+$/)
  })

  it('auto mode uses KAFKA_BROKERS and starts nothing', async () => {
    process.env.KAFKA_BROKERS = ' 127.0.0.1:19092, 127.0.0.1:19093 '
    delete process.env.KAFKATUNE_KAFKA_MODE
    const kafka = await startKafka({ nodes: 3 })
    expect(kafka.mode).toBe('external')
    expect(kafka.brokers).toEqual(['127.0.0.1:19092', '127.0.0.1:19093'])
    expect(kafka.nodes).toEqual([])
    await expect(kafka.stop()).resolves.toBeUndefined()
  })

  it('external mode without KAFKA_BROKERS is a HARNESS error', async () => {
    delete process.env.KAFKA_BROKERS
    // KAFKATUNE_KAFKA_MODE (e.g. =local for a run without containers) would override the option.
    delete process.env.KAFKATUNE_KAFKA_MODE
    const err = await rejection(startKafka({ mode: 'external' }))
    expect(isKafkatuneError(err, 'HARNESS')).toBe(true)
    expect((err as Error).message).toContain('KAFKA_BROKERS')
  })

  it('KAFKATUNE_KAFKA_MODE overrides the option, and unknown modes are refused', async () => {
    process.env.KAFKATUNE_KAFKA_MODE = 'external'
    process.env.KAFKA_BROKERS = '127.0.0.1:19092'
    expect((await startKafka({ mode: 'local' })).mode).toBe('external')
    process.env.KAFKATUNE_KAFKA_MODE = 'embedded'
    const err = await rejection(startKafka())
    expect(isKafkatuneError(err, 'HARNESS')).toBe(true)
    expect((err as Error).message).toContain("'embedded'")
  })

  it('brokerConfig: harness-owned, malformed and external-cluster settings are refused before anything starts', async () => {
    const bad = await rejection(startLocalKafka({ brokerConfig: { 'node.id': 5, 'Log Retention': 1, 'log.retention.ms': Number.NaN, 'log.segment.bytes': 1048576 } }))
    expect(bad).toBeInstanceOf(ConfigError)
    expect((bad as ConfigError).problems.map((p) => p.option)).toEqual([
      "brokerConfig['node.id']",
      "brokerConfig['Log Retention']",
      "brokerConfig['log.retention.ms']",
    ])
    process.env.KAFKA_BROKERS = '127.0.0.1:19092'
    delete process.env.KAFKATUNE_KAFKA_MODE
    const external = await rejection(startKafka({ brokerConfig: { 'log.retention.ms': 1000 } }))
    expect(isKafkatuneError(external, 'CONFIG_INVALID')).toBe(true)
    expect((external as Error).message).toContain('external cluster')
    // Without brokerConfig the same call is fine (nothing to apply).
    expect((await startKafka({ brokerConfig: {} })).mode).toBe('external')
  })

  it('brokerConfig names map to the KAFKA_* variables the official image reads back', () => {
    expect(brokerConfigVariable('log.retention.ms')).toBe('KAFKA_LOG_RETENTION_MS')
    expect(brokerConfigVariable('listener.name.internal.ssl_keystore-location')).toBe('KAFKA_LISTENER_NAME_INTERNAL_SSL__KEYSTORE___LOCATION')
  })

  it('brokerConfig reaches a local broker', async () => {
    delete process.env.KAFKA_BROKERS
    const kafka = await startLocalKafka({ brokerConfig: { 'log.retention.ms': 123_456_789, 'auto.create.topics.enable': false } })
    try {
      expect(await brokerSettings(kafka.brokers, 1, ['log.retention.ms', 'auto.create.topics.enable'])).toEqual({
        'log.retention.ms': '123456789',
        'auto.create.topics.enable': 'false',
      })
    } finally {
      await kafka.stop()
    }
  })

  it('refuses a node count other than 1 or 3', async () => {
    const err = await rejection(startLocalKafka({ nodes: 2 as 1 }))
    expect(isKafkatuneError(err, 'HARNESS')).toBe(true)
  })

  it('says what to install when Java is missing or too old', async () => {
    delete process.env.JAVA_HOME
    process.env.PATH = tempDir('kafkatune-nopath-')
    const missing = await rejection(startLocalKafka())
    expect(isKafkatuneError(missing, 'HARNESS')).toBe(true)
    expect((missing as Error).message).toMatch(/Java 17\+.*KAFKA_BROKERS.*Docker/s)

    process.env.PATH = savedEnv.PATH ?? ''
    const fakeHome = tempDir('kafkatune-oldjava-')
    mkdirSync(join(fakeHome, 'bin'))
    writeFileSync(join(fakeHome, 'bin', 'java'), '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n')
    chmodSync(join(fakeHome, 'bin', 'java'), 0o755)
    process.env.JAVA_HOME = fakeHome
    const old = await rejection(startLocalKafka())
    expect(isKafkatuneError(old, 'HARNESS')).toBe(true)
    expect((old as Error).message).toContain('needs Java 17+')
    expect((old as Error).message).toContain('11.0.22')
  })

  it('says what to install when Maven is missing (cold cache)', async () => {
    process.env.KAFKATUNE_CACHE_DIR = tempDir('kafkatune-coldcache-')
    process.env.KAFKATUNE_MVN = join(tempDir('kafkatune-nomvn-'), 'mvn')
    const err = await rejection(ensureKafkaJars())
    expect(isKafkatuneError(err, 'HARNESS')).toBe(true)
    expect((err as Error).message).toMatch(/Maven.*KAFKA_BROKERS/s)
  })

  it('a warm cache needs no Maven at all', async () => {
    const libs = await ensureKafkaJars()
    process.env.KAFKATUNE_MVN = join(tempDir('kafkatune-nomvn-'), 'mvn')
    await expect(ensureKafkaJars()).resolves.toBe(libs)
    expect(existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))).toBe(true)
  })
})

describe('local 3-node cluster: per-node control', () => {
  it('kills, restarts, pauses, resumes and stops single nodes, then leaves nothing behind', async () => {
    let cluster: KafkaHandle | undefined
    try {
      cluster = await startKafka({ nodes: 3, mode: 'local' })
      expect(cluster.mode).toBe('local')
      expect(cluster.nodes.map((n) => n.nodeId)).toEqual([1, 2, 3])
      expect(cluster.brokers).toEqual(cluster.nodes.map((n) => n.brokerAddress))
      for (const n of cluster.nodes) {
        expect(n.brokerAddress).toMatch(/^127\.0\.0\.1:\d+$/)
        expect(pidAlive(n.pid)).toBe(true)
        strayPids.add(n.pid ?? -1)
      }
      const [n1, n2, n3] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
      const root = dataRootOf(n1.pid ?? -1)
      expect(existsSync(root)).toBe(true)

      const admin = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin()
      await admin.connect()
      try {
        const brokerIds = async (): Promise<number[]> => (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort()
        expect(await brokerIds()).toEqual([1, 2, 3])

        // kill: SIGKILL, the controller fences the node, the cluster shows two brokers.
        const killedPid = n3.pid
        await n3.kill()
        expect(pidAlive(killedPid)).toBe(false)
        expect(n3.pid).toBeUndefined()
        await waitFor(async () => !(await brokerIds()).includes(3), 60_000)

        // start: same ports and data, a new JVM, back in the cluster.
        await n3.start()
        expect(n3.pid).not.toBe(killedPid)
        expect(pidAlive(n3.pid)).toBe(true)
        strayPids.add(n3.pid ?? -1)
        await waitFor(async () => (await brokerIds()).includes(3), 60_000)

        // pause / resume: SIGSTOP and SIGCONT on the JVM.
        await n2.pause()
        // Signals are delivered asynchronously: wait for the kernel to show the JVM stopped.
        await waitFor(() => processState(n2.pid ?? -1) === 'T', 5_000)
        await n2.resume()
        await waitFor(() => processState(n2.pid ?? -1) !== 'T', 5_000)
        expect(pidAlive(n2.pid)).toBe(true)

        // stop: SIGTERM (SIGKILL after a grace period); then start again.
        const stoppedPid = n1.pid
        await n1.stop()
        expect(pidAlive(stoppedPid)).toBe(false)
        await n1.start()
        strayPids.add(n1.pid ?? -1)
        await waitFor(async () => (await brokerIds()).length === 3, 60_000)
      } finally {
        await admin.disconnect()
      }

      const pids = cluster.nodes.map((n) => n.pid)
      await cluster.stop()
      for (const pid of pids) expect(pidAlive(pid)).toBe(false)
      expect(existsSync(root)).toBe(false)
    } finally {
      await cluster?.stop()
    }
  })
})

describe('no orphan JVMs', () => {
  it('a broker dies with the Node process that started it, even on SIGKILL, and on SIGTERM', async () => {
    // Inside the repo (under the git-ignored .kafkatune/) so the bundle resolves kafkajs and finds kafka/pom.xml.
    mkdirSync(resolve('.kafkatune'), { recursive: true })
    const dir = mkdtempSync(join(resolve('.kafkatune'), 'orphan-test-'))
    scratch.push(dir)
    const bundle = join(dir, 'testing.mjs')
    await build({
      entryPoints: [resolve('src/testing/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: bundle,
      logLevel: 'silent',
    })
    const script = join(dir, 'child.mjs')
    writeFileSync(
      script,
      `import { startKafka } from ${JSON.stringify(bundle)}\n` +
        `const k = await startKafka({ mode: 'local' })\n` +
        `process.stdout.write(JSON.stringify({ pid: k.nodes[0].pid }) + '\\n')\n` +
        `setInterval(() => {}, 1000)\n`,
    )

    const startChild = async (): Promise<{ node: number; jvm: number }> => {
      const child = spawn(process.execPath, [script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] })
      if (child.pid !== undefined) strayPids.add(child.pid)
      let out = ''
      let err = ''
      child.stderr.on('data', (d: Buffer) => (err += d.toString()))
      const jvm = await new Promise<number>((res, rej) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          const line = out.split('\n')[0]
          if (out.includes('\n') && line !== undefined) res((JSON.parse(line) as { pid: number }).pid)
        })
        child.on('exit', (code) => rej(new Error(`child exited (${code}) before its broker was ready:\n${err}`)))
      })
      strayPids.add(jvm)
      return { node: child.pid ?? -1, jvm }
    }

    const [hard, soft] = await Promise.all([startChild(), startChild()])
    const hardRoot = dataRootOf(hard.jvm)
    const softRoot = dataRootOf(soft.jvm)
    scratch.push(hardRoot)
    expect(pidAlive(hard.jvm)).toBe(true)
    expect(pidAlive(soft.jvm)).toBe(true)

    // SIGKILL: no exit hook runs; the watchdog beside the JVM notices within a second or two.
    process.kill(hard.node, 'SIGKILL')
    await waitFor(() => !pidAlive(hard.jvm), 15_000)

    // SIGTERM: the signal hook kills the JVM and removes its data before Node exits.
    process.kill(soft.node, 'SIGTERM')
    await waitFor(() => !pidAlive(soft.node), 15_000)
    // SIGKILL was sent before Node exited; the kernel needs a moment to tear a 300 MB JVM down.
    await waitFor(() => !pidAlive(soft.jvm), 5_000)
    expect(existsSync(softRoot)).toBe(false)
  })
})
