/**
 * A real Confluent-compatible schema registry for integration tests: Apicurio Registry from Maven Central
 * (`io.apicurio:apicurio-registry-app:<v>:tar.gz:all`), in-memory storage, on free loopback ports.
 * Fetched once into the kafkatune cache (`~/.cache/kafkatune/apicurio-registry-<v>`), ready when its HTTP
 * health check says so, stopped by pid.
 *
 * Version: 2.6.x runs on Java 17 (3.3.x needs Java 21, 3.0.9's parent POM is not on Maven Central).
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { cacheDir, javaExecutable } from '../../src/testing/jars.js'

export const REGISTRY_VERSION = '2.6.13.Final'
const MARKER = '.kafkatune-complete'

export interface RunningRegistry {
  /** Base URL of the Confluent-compatible API (`http://127.0.0.1:PORT/apis/ccompat/v7`), for `serializers.schemaRegistry({ host })`. */
  url: string
  /** Milliseconds from spawn to a ready health check. */
  startMs: number
  /** Process id of the registry JVM. */
  pid: number
  stop(): Promise<void>
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const keep = (c: Buffer): void => {
      out = (out + c.toString('utf8')).slice(-4000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))))
  })
}

/** The unpacked registry folder, fetched with Maven on first use. */
export async function ensureRegistry(): Promise<string> {
  const home = join(cacheDir(), `apicurio-registry-${REGISTRY_VERSION}`)
  if (existsSync(join(home, MARKER))) return home
  const work = join(cacheDir(), `apicurio-fetch-${process.pid}-${Date.now()}`)
  const staging = join(work, 'app')
  mkdirSync(staging, { recursive: true })
  try {
    await run(
      process.env.KAFKATUNE_MVN ?? 'mvn',
      [
        '-B',
        '-q',
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
        `-Dartifact=io.apicurio:apicurio-registry-app:${REGISTRY_VERSION}:tar.gz:all`,
        `-DoutputDirectory=${work}`,
      ],
      work,
    )
    await run('tar', ['xzf', join(work, `apicurio-registry-app-${REGISTRY_VERSION}-all.tar.gz`), '-C', staging], work)
    writeFileSync(join(staging, MARKER), `${REGISTRY_VERSION}\n`)
    try {
      renameSync(staging, home)
    } catch (err) {
      if (!existsSync(join(home, MARKER))) throw err // someone else finished first otherwise
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return home
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

/** Starts Apicurio Registry and resolves when its readiness check passes (polled, no fixed sleep). */
export async function startRegistry(timeoutMs = 180_000): Promise<RunningRegistry> {
  const home = await ensureRegistry()
  const jar = readdirSync(home).find((f) => f.endsWith('-runner.jar'))
  if (jar === undefined) throw new Error(`no *-runner.jar in ${home}`)
  const port = await freePort()
  const started = Date.now()
  const child = spawn(
    javaExecutable(),
    [
      '-Xms128m',
      '-Xmx384m',
      // C1 only: the registry serves a handful of requests per test, startup time is what counts.
      '-XX:TieredStopAtLevel=1',
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${port}`,
      // The Confluent client's register() reads the subject's compatibility and expects BACKWARD (or 404).
      '-Dregistry.rules.global.compatibility=BACKWARD',
      '-Dquarkus.log.level=WARN',
      '-jar',
      jar,
    ],
    { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  const keep = (c: Buffer): void => {
    log = (log + c.toString('utf8')).slice(-6000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  const pid = child.pid
  if (pid === undefined) throw new Error('could not spawn java for the schema registry')

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit)
    if (child.exitCode !== null || child.signalCode !== null) return
    const done = exited(child)
    process.kill(pid, 'SIGTERM')
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL')
    }, 10_000)
    await done
    clearTimeout(timer)
  }

  const base = `http://127.0.0.1:${port}`
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`schema registry exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log}`)
      }
      if (Date.now() - started > timeoutMs) throw new Error(`schema registry not ready within ${timeoutMs} ms:\n${log}`)
      try {
        const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) })
        if (res.ok) break
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { url: `${base}/apis/ccompat/v7`, startMs: Date.now() - started, pid, stop }
}
