import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KafkatuneError } from '../errors.js'

/** The Apache Kafka version the local broker runs (kept in step with `kafka/pom.xml`). */
export const KAFKA_VERSION = '4.1.2'

const MARKER = '.kafkatune-complete'

const NO_BROKER_HINT =
  'or set KAFKA_BROKERS=host:port to use a running broker, or start Docker/Podman so kafkatune can run Kafka in a container'

/**
 * The folder holding `kafka/pom.xml` (the package root: `dist/..` when built, `src/testing/../..` in source),
 * searched upward from this module, then from the working directory (for code bundled elsewhere).
 */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const start of [here, process.cwd()]) {
    let dir = start
    for (let i = 0; i < 6; i++) {
      if (isOurPom(join(dir, 'kafka', 'pom.xml'))) return dir
      const parent = dirname(dir)
      if (parent === dir) break
      dir = parent
    }
  }
  throw new KafkatuneError('HARNESS', `kafkatune: cannot find kafka/pom.xml above ${here}; is the package installed completely?`, {
    retriable: false,
  })
}

function isOurPom(file: string): boolean {
  return existsSync(file) && readFileSync(file, 'utf8').includes('<artifactId>kafkatune-kafka-runtime</artifactId>')
}

/** Path of a file in the package's `kafka/` folder. */
export function kafkaResource(name: string): string {
  return join(packageRoot(), 'kafka', name)
}

/** Base cache folder: env `KAFKATUNE_CACHE_DIR`, else `$XDG_CACHE_HOME/kafkatune`, else `~/.cache/kafkatune`. */
export function cacheDir(): string {
  const explicit = process.env.KAFKATUNE_CACHE_DIR
  if (explicit !== undefined && explicit !== '') return resolve(explicit)
  const xdg = process.env.XDG_CACHE_HOME
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'kafkatune')
}

/** The `java` executable: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH. */
export function javaExecutable(): string {
  const home = process.env.JAVA_HOME
  if (home !== undefined && home !== '') {
    const candidate = join(home, 'bin', 'java')
    if (existsSync(candidate)) return candidate
  }
  return 'java'
}

let javaChecked: string | undefined
let javaVersionLine = ''

/** What `java -version` said for the Java that runs the broker (after `checkJava()`). */
export function javaVersion(): string {
  return javaVersionLine
}

/** Fail with one clear `HARNESS` error unless Java 17+ runs. */
export function checkJava(): void {
  const java = javaExecutable()
  // A bare `java` is looked up on PATH, so the same name can be another Java after PATH changed.
  const key = `${java}\u0000${java.includes('/') ? '' : (process.env.PATH ?? '')}`
  if (javaChecked === key) return
  const res = spawnSync(java, ['-version'], { encoding: 'utf8' })
  if (res.error !== undefined) {
    throw new KafkatuneError(
      'HARNESS',
      `kafkatune: cannot run '${java}' (${res.error.message}). The local Kafka broker needs Java 17+: install a JDK (e.g. 'apt-get install openjdk-17-jre-headless') or set JAVA_HOME, ${NO_BROKER_HINT}.`,
      { cause: res.error, retriable: false },
    )
  }
  const text = `${res.stderr}${res.stdout}`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text)
  const major = match === null ? NaN : Number(match[1] === '1' ? match[2] : match[1])
  if (!(major >= 17)) {
    throw new KafkatuneError(
      'HARNESS',
      `kafkatune: Apache Kafka ${KAFKA_VERSION} needs Java 17+, but '${java} -version' says: ${text.split('\n')[0] ?? ''}. Install Java 17+ or set JAVA_HOME, ${NO_BROKER_HINT}.`,
      { retriable: false },
    )
  }
  javaChecked = key
  javaVersionLine = `${java}\n${text.trim()}`
}

/** The folder the broker jars live in (`<cache>/kafka-<version>/libs`); does not fetch. */
export function kafkaLibsDir(): string {
  return join(cacheDir(), `kafka-${KAFKA_VERSION}`, 'libs')
}

let pending: Promise<string> | undefined

/**
 * Make sure the Apache Kafka broker jars are in the cache (fetching them from Maven Central with `mvn` once)
 * and return the folder to put on the classpath as `DIR/*`.
 */
export function ensureKafkaJars(): Promise<string> {
  const libs = kafkaLibsDir()
  if (existsSync(join(libs, MARKER))) return Promise.resolve(libs)
  pending ??= fetchJars(libs).finally(() => {
    pending = undefined
  })
  return pending
}

async function fetchJars(libs: string): Promise<string> {
  const home = dirname(libs)
  mkdirSync(home, { recursive: true })
  // Fetch into a private folder and rename it into place: concurrent first starts never see half a folder.
  const work = join(home, `fetch-${process.pid}-${Date.now()}`)
  mkdirSync(work, { recursive: true })
  const pom = join(work, 'pom.xml')
  copyFileSync(kafkaResource('pom.xml'), pom)
  const staging = join(work, 'libs')
  const started = Date.now()
  process.stderr.write(`kafkatune: fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${libs} (first run only)...\n`)
  try {
    await runMaven(work, staging)
    writeFileSync(join(staging, MARKER), `${KAFKA_VERSION}\n${new Date().toISOString()}\n`)
    try {
      renameSync(staging, libs)
    } catch (err) {
      // Someone else finished first: theirs is as good as ours.
      if (!existsSync(join(libs, MARKER))) {
        rmSync(libs, { recursive: true, force: true })
        renameSync(staging, libs)
      }
      void err
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  process.stderr.write(`kafkatune: Kafka jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  return libs
}

function runMaven(dir: string, outDir: string): Promise<void> {
  const mvn = process.env.KAFKATUNE_MVN ?? 'mvn'
  const args = ['-B', '-Dstyle.color=never', '-f', join(dir, 'pom.xml'), `-Dkafkatune.libs=${outDir}`, 'validate']
  return new Promise((resolvePromise, reject) => {
    const child = spawn(mvn, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    const tail: string[] = []
    let jars = 0
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue
        tail.push(line)
        if (tail.length > 60) tail.shift()
        if (/Downloaded from .*\.jar/.test(line)) {
          jars++
          if (jars % 10 === 0) process.stderr.write(`kafkatune: ${jars} jars downloaded...\n`)
        } else if (/\[ERROR\]/.test(line)) {
          process.stderr.write(`kafkatune: ${line}\n`)
        }
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new KafkatuneError(
          'HARNESS',
          err.code === 'ENOENT'
            ? `kafkatune: the local Kafka broker's jars are fetched from Maven Central with Maven, but '${mvn}' is not installed: install Maven 3.8+ (e.g. 'apt-get install maven'), ${NO_BROKER_HINT}.`
            : `kafkatune: cannot run '${mvn}': ${err.message}`,
          { cause: err, retriable: false },
        ),
      )
    })
    child.on('close', (code) => {
      if (code === 0) {
        resolvePromise()
        return
      }
      reject(
        new KafkatuneError(
          'HARNESS',
          `kafkatune: fetching Apache Kafka ${KAFKA_VERSION} jars with Maven failed (exit ${code}). Check access to Maven Central, ${NO_BROKER_HINT}. Maven said:\n${tail.join('\n')}`,
          { retriable: false },
        ),
      )
    })
  })
}

/** The `kafka.version` property declared in the package's `kafka/pom.xml`. */
export function pomKafkaVersion(): string | undefined {
  const text = readFileSync(kafkaResource('pom.xml'), 'utf8')
  return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(text)?.[1]
}
