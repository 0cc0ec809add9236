/**
 * What starting and stopping a cluster needs in both modes (local JVMs and containers): the start timeout, free
 * ports, a cluster id, the readiness line, polling with a deadline, the wait for N brokers and the stop grace.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { Kafka, logLevel } from 'kafkajs'
import { KafkatuneError } from '../errors.js'
import type { StartKafkaOptions } from './types.js'

/** The line a broker logs once it serves clients. */
export const READY_LINE = 'Kafka Server started'
/** How long a node's `stop()` waits for a clean shutdown before it kills the node. */
export const STOP_GRACE_MS = 10_000
export const DEFAULT_START_TIMEOUT_MS = 120_000
/** Where the harness binds and what tests connect to: loopback only. */
export const LOOPBACK = '127.0.0.1'

/** `startTimeoutMs`, else env `KAFKATUNE_KAFKA_START_TIMEOUT_MS`, else {@link DEFAULT_START_TIMEOUT_MS}. */
export function startTimeout(options: Pick<StartKafkaOptions, 'startTimeoutMs'>): number {
  if (options.startTimeoutMs !== undefined) return options.startTimeoutMs
  const env = Number(process.env.KAFKATUNE_KAFKA_START_TIMEOUT_MS)
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_START_TIMEOUT_MS
}

/** `count` distinct free TCP ports on loopback, all held open until every one is chosen. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = createServer()
      server.unref()
      servers.push(server)
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject)
          server.listen(0, LOOPBACK, () => {
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
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Call `check` every `intervalMs` until it answers true (then true) or `timeoutMs` passed (then false). `check` may
 * throw to end the wait early.
 */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await sleep(intervalMs)
  }
}

/** Wait until an admin client on `brokers` sees `count` live brokers: a 3-node cluster is usable only then. */
export async function waitForBrokerCount(brokers: string[], count: number, timeoutMs: number): Promise<void> {
  const admin = new Kafka({ clientId: 'kafkatune-harness', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
  let seen = 0
  let lastError: unknown
  let connected = false
  try {
    const formed = await pollUntil(
      async () => {
        try {
          if (!connected) {
            await admin.connect()
            connected = true
          }
          seen = (await admin.describeCluster()).brokers.length
        } catch (err) {
          lastError = err
        }
        return seen >= count
      },
      timeoutMs,
      200,
    )
    if (!formed) {
      throw new KafkatuneError('HARNESS', `kafkatune: the cluster shows ${seen} of ${count} brokers after ${timeoutMs} ms`, { cause: lastError, retriable: false })
    }
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** True when `promise` settles within `ms`, false when the time ran out first. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}
