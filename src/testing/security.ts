/**
 * `startKafka({ security })` in local mode: secured client listeners (SASL_PLAINTEXT, SSL, mutual TLS, SASL_SSL)
 * beside the internal PLAINTEXT listener that the controller quorum and inter-broker traffic keep using on
 * loopback. Keys and certificates are made at start with `openssl` (a throwaway CA), SCRAM users at format time.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { ConfigError, KafkatuneError } from '../errors.js'
import type { ConfigProblem } from '../errors.js'
import type { KafkaSecurity, KafkaSecurityInfo, SecureListener, TestSaslMechanism, TestConnection } from './types.js'

export const SECURE_LISTENERS: readonly SecureListener[] = ['sasl-plaintext', 'ssl', 'mtls', 'sasl-ssl']
export const TEST_MECHANISMS: readonly TestSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']

/** Kafka listener name and security protocol of each kind. */
const LISTENER: Record<SecureListener, { name: string; protocol: string }> = {
  'sasl-plaintext': { name: 'SASL_PLAINTEXT', protocol: 'SASL_PLAINTEXT' },
  ssl: { name: 'SSL', protocol: 'SSL' },
  mtls: { name: 'MTLS', protocol: 'SSL' },
  'sasl-ssl': { name: 'SASL_SSL', protocol: 'SASL_SSL' },
}

/** Validates `startKafka({ security })`: every problem at once, `CONFIG_INVALID`. */
export function checkSecurity(security: unknown): KafkaSecurity | undefined {
  if (security === undefined) return undefined
  const problems: ConfigProblem[] = []
  if (security === null || typeof security !== 'object' || Array.isArray(security)) {
    throw new ConfigError([{ option: 'security', message: "must be an object, e.g. { listeners: ['sasl-ssl'] }" }], 'startKafka() options')
  }
  const s = security as Record<string, unknown>
  for (const key of Object.keys(s)) {
    if (key !== 'listeners' && key !== 'mechanisms') problems.push({ option: `security.${key}`, message: 'is not an option (use listeners, mechanisms)' })
  }
  const listeners = s.listeners
  if (!Array.isArray(listeners) || listeners.length === 0) {
    problems.push({ option: 'security.listeners', message: `must be a non-empty array of ${SECURE_LISTENERS.join(', ')}` })
  } else {
    for (const l of listeners) {
      if (!SECURE_LISTENERS.includes(l as SecureListener)) problems.push({ option: 'security.listeners', message: `unknown listener '${String(l)}': use ${SECURE_LISTENERS.join(', ')}` })
    }
    if (new Set(listeners).size !== listeners.length) problems.push({ option: 'security.listeners', message: 'lists a listener twice' })
  }
  const mechanisms = s.mechanisms
  if (mechanisms !== undefined) {
    if (!Array.isArray(mechanisms) || mechanisms.length === 0) {
      problems.push({ option: 'security.mechanisms', message: `must be a non-empty array of ${TEST_MECHANISMS.join(', ')}` })
    } else {
      for (const m of mechanisms) {
        if (!TEST_MECHANISMS.includes(m as TestSaslMechanism)) problems.push({ option: 'security.mechanisms', message: `unknown SASL mechanism '${String(m)}': use ${TEST_MECHANISMS.join(', ')}` })
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, 'startKafka() security')
  return {
    listeners: [...(listeners as SecureListener[])],
    mechanisms: mechanisms === undefined ? [...TEST_MECHANISMS] : [...new Set(mechanisms as TestSaslMechanism[])],
  }
}

/** What a secured start needs: files, users, and what to add to server.properties and the format command. */
export interface SecurityPlan {
  readonly listeners: readonly SecureListener[]
  readonly mechanisms: readonly TestSaslMechanism[]
  readonly keystore: string
  readonly truststore: string
  readonly storePassword: string
  readonly ca: string
  readonly clientCert: string
  readonly clientKey: string
  readonly plain: { username: string; password: string }
  readonly scram: { username: string; password: string }
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? ''
    throw new KafkatuneError('HARNESS', `kafkatune: openssl ${args[0] ?? ''} failed while making test certificates (is openssl installed?): ${stderr.trim() || (err as Error).message}`, {
      cause: err,
      retriable: false,
    })
  }
}

/** A throwaway CA, a broker certificate for 127.0.0.1, localhost and `hosts`, and a client certificate (for mutual TLS). */
function makeCertificates(dir: string, storePassword: string, hosts: readonly string[]): Pick<SecurityPlan, 'keystore' | 'truststore' | 'ca' | 'clientCert' | 'clientKey'> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kafkatune test CA'], dir)
  const names = new Set(['IP:127.0.0.1', 'DNS:localhost', ...hosts.map((h) => (isIP(h) === 0 ? `DNS:${h}` : `IP:${h}`))])
  writeFileSync(join(dir, 'broker.ext'), `subjectAltName=${[...names].join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`)
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
  for (const [name, cn] of [
    ['broker', 'localhost'],
    ['client', 'kafkatune-client'],
  ] as const) {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir)
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir)
  }
  openssl(['pkcs12', '-export', '-in', 'broker.crt', '-inkey', 'broker.key', '-certfile', 'ca.crt', '-name', 'broker', '-out', 'broker.p12', '-passout', `pass:${storePassword}`], dir)
  return {
    keystore: join(dir, 'broker.p12'),
    truststore: join(dir, 'ca.crt'),
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    clientCert: readFileSync(join(dir, 'client.crt'), 'utf8'),
    clientKey: readFileSync(join(dir, 'client.key'), 'utf8'),
  }
}

const secret = (): string => randomBytes(18).toString('hex')

/**
 * Certificates (when a TLS listener is asked for) and random credentials, made in the cluster's temp dir.
 * `hosts`: more names clients reach the broker by (e.g. a remote container runtime's), besides 127.0.0.1 and localhost.
 */
export function planSecurity(security: KafkaSecurity, dir: string, hosts: readonly string[] = []): SecurityPlan {
  const listeners = security.listeners
  const mechanisms = security.mechanisms ?? TEST_MECHANISMS
  const storePassword = secret()
  const tls = listeners.some((l) => l !== 'sasl-plaintext')
  const certs = tls ? makeCertificates(dir, storePassword, hosts) : { keystore: '', truststore: '', ca: '', clientCert: '', clientKey: '' }
  return {
    listeners,
    mechanisms,
    storePassword,
    ...certs,
    plain: { username: 'kafkatune-plain', password: secret() },
    scram: { username: 'kafkatune-scram', password: secret() },
  }
}

/** The `--add-scram` values for `kafka-storage format` (one per enabled SCRAM mechanism). */
export function scramCredentials(plan: SecurityPlan | undefined): string[] {
  if (plan === undefined) return []
  return plan.mechanisms
    .filter((m) => m === 'scram-sha-256' || m === 'scram-sha-512')
    .map((m) => `${m.toUpperCase()}=[name=${plan.scram.username},password=${plan.scram.password}]`)
}

/** `--add-scram` arguments for `kafka-storage format`: SCRAM users exist before the broker starts. */
export function scramFormatArgs(plan: SecurityPlan | undefined): string[] {
  return scramCredentials(plan).flatMap((value) => ['--add-scram', value])
}

const jaasValue = (s: string): string => `"${s}"`

/** Kafka listener name and security protocol of each secured listener, in the plan's order. */
export function secureListenerSpecs(plan: SecurityPlan): { name: string; protocol: string }[] {
  return plan.listeners.map((kind) => ({ ...LISTENER[kind] }))
}

/** Per-listener server.properties entries of the secured listeners: key stores and SASL login modules. */
export function secureListenerProperties(plan: SecurityPlan): Record<string, string> {
  const props: Record<string, string> = {}
  for (const kind of plan.listeners) {
    const { name, protocol } = LISTENER[kind]
    const prefix = `listener.name.${name.toLowerCase()}`
    if (protocol !== 'SASL_PLAINTEXT') {
      props[`${prefix}.ssl.keystore.type`] = 'PKCS12'
      props[`${prefix}.ssl.keystore.location`] = plan.keystore
      props[`${prefix}.ssl.keystore.password`] = plan.storePassword
      props[`${prefix}.ssl.key.password`] = plan.storePassword
      props[`${prefix}.ssl.truststore.type`] = 'PEM'
      props[`${prefix}.ssl.truststore.location`] = plan.truststore
      props[`${prefix}.ssl.client.auth`] = kind === 'mtls' ? 'required' : 'none'
    }
    if (protocol.startsWith('SASL_')) {
      props[`${prefix}.sasl.enabled.mechanisms`] = plan.mechanisms.map((m) => m.toUpperCase()).join(',')
      for (const m of plan.mechanisms) {
        const key = `${prefix}.${m}.sasl.jaas.config`
        if (m === 'plain') {
          const { username, password } = plan.plain
          props[key] = `org.apache.kafka.common.security.plain.PlainLoginModule required username=${jaasValue(username)} password=${jaasValue(password)} user_${username}=${jaasValue(password)};`
        } else if (m === 'oauthbearer') {
          // No server callback handler: Kafka then validates with its unsecured JWS validator (tests only).
          props[key] = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="kafkatune-broker";'
        } else {
          props[key] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
        }
      }
    }
  }
  return props
}

/** An unsecured (alg "none") JWS that Kafka's test validator accepts: never for a real cluster. */
export function unsecuredJws(subject: string, lifetimeMs: number, now = Date.now()): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const iat = Math.floor(now / 1000)
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat, exp: iat + Math.ceil(lifetimeMs / 1000) })}.`
}

/** What a client needs for each listener and mechanism of a secured cluster. */
export function securityInfo(plan: SecurityPlan, addresses: Record<SecureListener | 'plaintext', string[]>): KafkaSecurityInfo {
  const tokensIssued: string[] = []
  const connection = (listener: SecureListener, mechanism?: TestSaslMechanism): TestConnection => {
    if (!plan.listeners.includes(listener)) {
      throw new KafkatuneError('HARNESS', `kafkatune: this cluster has no '${listener}' listener (it has ${plan.listeners.join(', ')})`, { retriable: false })
    }
    const sasl = listener === 'sasl-plaintext' || listener === 'sasl-ssl'
    if (sasl !== (mechanism !== undefined)) {
      throw new KafkatuneError('HARNESS', `kafkatune: listener '${listener}' ${sasl ? 'needs a SASL mechanism' : 'takes no SASL mechanism'}`, { retriable: false })
    }
    if (mechanism !== undefined && !plan.mechanisms.includes(mechanism)) {
      throw new KafkatuneError('HARNESS', `kafkatune: SASL mechanism '${mechanism}' is not enabled (enabled: ${plan.mechanisms.join(', ')})`, { retriable: false })
    }
    const out: TestConnection = { brokers: [...addresses[listener]] }
    if (listener !== 'sasl-plaintext') {
      out.ssl = listener === 'mtls' ? { ca: [plan.ca], cert: plan.clientCert, key: plan.clientKey } : { ca: [plan.ca] }
    }
    if (mechanism === 'plain') out.sasl = { mechanism, ...plan.plain }
    else if (mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') out.sasl = { mechanism, ...plan.scram }
    else if (mechanism === 'oauthbearer') {
      out.sasl = {
        mechanism,
        oauthBearerProvider: async () => {
          const value = unsecuredJws('kafkatune-client', 3_600_000)
          tokensIssued.push(value)
          return { value }
        },
      }
    }
    return out
  }
  return {
    listeners: [...plan.listeners],
    mechanisms: [...plan.mechanisms],
    brokers: Object.fromEntries(Object.entries(addresses).map(([k, v]) => [k, [...v]])) as KafkaSecurityInfo['brokers'],
    ca: plan.ca,
    clientCert: plan.clientCert,
    clientKey: plan.clientKey,
    users: { plain: { ...plan.plain }, scram: { ...plan.scram } },
    tokensIssued,
    connection,
  }
}
