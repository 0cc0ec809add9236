import { readFileSync } from 'node:fs'
import { Option } from 'commander'
import type { Command } from 'commander'
import pino from 'pino'
import type { Logger } from 'pino'
import { createAdmin } from '../index.js'
import type { ConnectionOptions } from '../index.js'
import { describeError, UsageError } from './exit.js'

/** What the connection flags parse into. */
export interface ConnectionFlags {
  brokers?: string
  clientId?: string
  ssl?: boolean
  sslCa?: string
  saslMechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  saslUsername?: string
  verbose?: boolean
  timeout: number
}

/** Adds `--brokers`, TLS and SASL flags to a command that talks to a cluster. */
export function withConnectionFlags(cmd: Command): Command {
  return cmd
    .option('-b, --brokers <list>', 'bootstrap servers, comma-separated host:port (default: env KAFKA_BROKERS)')
    .option('--client-id <id>', 'client.id sent to the brokers', 'kafkatune-cli')
    .option('--ssl', 'connect with TLS (hostnames are verified)')
    .option('--ssl-ca <file>', 'PEM file with the CA that signed the brokers\' certificates (implies --ssl)')
    .addOption(new Option('--sasl-mechanism <mechanism>', 'SASL mechanism; the password is read from env KAFKATUNE_SASL_PASSWORD').choices(['plain', 'scram-sha-256', 'scram-sha-512']))
    .option('--sasl-username <user>', 'SASL user name')
    .option('--timeout <ms>', 'how long to wait for the first broker answer', (v) => positiveInt('--timeout', v), 5000)
    .option('-v, --verbose', 'print kafkajs warnings and errors on stderr')
}

/** Parses a positive integer flag or fails with a usage error. */
export function positiveInt(flag: string, raw: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} expects a positive integer, got '${raw}'`)
  return n
}

/** Parses a non-negative integer flag or fails with a usage error. */
export function nonNegativeInt(flag: string, raw: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} expects an integer >= 0, got '${raw}'`)
  return n
}

/** A logger for the clients: silent unless `--verbose`, and then on stderr so stdout stays data. */
export function cliLogger(verbose: boolean | undefined): Logger {
  // Synchronous: the command ends with process.exit(), which would drop buffered lines.
  return pino({ level: verbose === true ? 'warn' : 'silent', base: undefined }, pino.destination({ fd: 2, sync: true }))
}

/** The library's connection options from the flags (SASL password only from the environment, never argv). */
export function connectionFrom(flags: ConnectionFlags): ConnectionOptions {
  const raw = flags.brokers ?? process.env.KAFKA_BROKERS
  const brokers = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (brokers.length === 0) throw new UsageError('no brokers: pass --brokers host:port[,host:port...] or set KAFKA_BROKERS')
  for (const b of brokers) {
    if (!/^[^:\s]+:\d+$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(b)) throw new UsageError(`--brokers: '${b}' is not host:port`)
  }
  const conn: ConnectionOptions = { brokers, clientId: flags.clientId ?? 'kafkatune-cli', logger: cliLogger(flags.verbose) }
  if (flags.sslCa !== undefined) conn.ssl = { ca: [readFileSync(flags.sslCa, 'utf8')] }
  else if (flags.ssl === true) conn.ssl = true
  if (flags.saslMechanism !== undefined) {
    const password = process.env.KAFKATUNE_SASL_PASSWORD
    if (flags.saslUsername === undefined || password === undefined) {
      throw new UsageError('--sasl-mechanism needs --sasl-username and env KAFKATUNE_SASL_PASSWORD')
    }
    conn.sasl = { mechanism: flags.saslMechanism, username: flags.saslUsername, password }
  }
  return conn
}

/**
 * Fails within about `timeoutMs` when no broker answers, instead of after the clients' whole retry budget.
 * Uses one admin connection with a short connection timeout and a single retry.
 */
export async function probeCluster(conn: ConnectionOptions, timeoutMs: number): Promise<void> {
  const admin = createAdmin({
    ...conn,
    kafkajs: { ...(conn.kafkajs ?? {}), connectionTimeout: Math.min(timeoutMs, 3000), requestTimeout: timeoutMs, retry: { retries: 1, initialRetryTime: 250, maxRetryTime: 1000 } },
  })
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([admin.connect(), deadline])
  } catch (err) {
    throw new UnreachableError(conn.brokers, timeoutMs, err)
  } finally {
    clearTimeout(timer)
    await admin.disconnect().catch(() => undefined)
  }
}

/** No broker answered the probe; exit code 1 with a message that names the addresses tried. */
export class UnreachableError extends Error {
  constructor(brokers: readonly string[], timeoutMs: number, cause: unknown) {
    super(
      `no Kafka broker answered at ${brokers.join(', ')} within ${(timeoutMs / 1000).toFixed(0)} s (${describeError(cause).split('\n')[0]}); check --brokers, that the cluster is up, and TLS/SASL flags`,
      { cause },
    )
    this.name = 'UnreachableError'
  }
}
