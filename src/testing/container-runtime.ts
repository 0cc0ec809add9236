/**
 * Finding a container runtime for container mode: Docker, or Podman's Docker-compatible API, reached through
 * Testcontainers (an optional peer dependency, loaded only on demand) with short timeouts, so a runtime that
 * accepts connections and never answers cannot hang the test process.
 */
import { request as httpRequest } from 'node:http'
import { KafkatuneError } from '../errors.js'

export type Testcontainers = typeof import('testcontainers')
export type RuntimeClient = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>
export type DockerContainer = ReturnType<RuntimeClient['container']['getById']>

const DETECT_TIMEOUT_MS = 5_000

const ENABLE_HINT =
  'Start Docker, or Podman\'s Docker API (`source node_modules/kafkatune/scripts/podman-setup.sh`, shipped in the package, sets DOCKER_HOST and starts `podman system service`), or use mode "local" (Java 17+) or "external" (KAFKA_BROKERS)'

export async function loadTestcontainers(): Promise<Testcontainers> {
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

export async function runtimeClient(tc: Testcontainers): Promise<RuntimeClient> {
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
