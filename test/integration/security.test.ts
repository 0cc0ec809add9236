/**
 * Secured clusters against a real broker: one local broker with SASL_PLAINTEXT, SSL, mutual-TLS and SASL_SSL
 * listeners (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) shared by the whole file. Every client kind works over every
 * listener kind; each mistake fails fast with a typed, non-retriable error; no secret reaches a log line.
 */
import { Writable } from 'node:stream'
import { inspect } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import type { Mechanism } from 'kafkajs'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdmin } from '../../src/admin/index.js'
import { createConsumer } from '../../src/consumer/index.js'
import type { ConnectionOptions } from '../../src/config/index.js'
import { isKafkatuneError } from '../../src/errors.js'
import { loggers } from '../../src/logging/index.js'
import type { Logger, LogLevel } from '../../src/logging/index.js'
import type { KafkatuneError } from '../../src/errors.js'
import { createPipeline } from '../../src/pipeline/index.js'
import { createProducer } from '../../src/producer/index.js'
import { startLocalKafka } from '../../src/testing/index.js'
import type { KafkaHandle, SecureListener, TestConnection, TestSaslMechanism } from '../../src/testing/index.js'
import { unsecuredJws } from '../../src/testing/security.js'
import { uniqueName, waitFor } from '../helpers/kafka.js'

const lines: string[] = []
const pinoLogger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString())
      done()
    },
  }),
)
/** The same lines through the console adapter: every field serialized as kafkatune's own adapters print it. */
const adapterLines: string[] = []
const capture = (line: string) => void adapterLines.push(line)
const adapterLogger = loggers.console({ level: 'trace', console: { debug: capture, info: capture, warn: capture, error: capture } })
const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
/** Writes every call to both loggers, so each client's lines reach pino and the adapter alike. */
function tee(a: Logger, b: Logger): Logger {
  const method = (l: LogLevel) => (fields: unknown, message?: unknown) => {
    ;(a[l] as (f: unknown, m?: unknown) => void)(fields, message)
    ;(b[l] as (f: unknown, m?: unknown) => void)(fields, message)
  }
  const [trace, debug, info, warn, error, fatal] = LEVELS.map(method) as [Logger['trace'], Logger['debug'], Logger['info'], Logger['warn'], Logger['error'], Logger['fatal']]
  return { trace, debug, info, warn, error, fatal, child: (bindings) => tee(a.child(bindings), b.child(bindings)), level: 'trace' }
}
const logger = tee(pinoLogger, adapterLogger)
const errorMessages: string[] = []
/** Every error a client raised here, inspected whole: message, stack, details, the cause chain. */
const errorDumps: string[] = []
/** Every health report the clients made (reasons and details are meant for HTTP probes). */
const healthReports: string[] = []
/** Tokens made by tests themselves (the harness records its own). */
const tokens: string[] = []
const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, maxPollIntervalMs: 10_000, fetchMaxWaitMs: 100 }

let kafka: KafkaHandle
let plain: Kafka

beforeAll(async () => {
  kafka = await startLocalKafka({
    security: { listeners: ['sasl-plaintext', 'ssl', 'mtls', 'sasl-ssl'] },
    // OAUTHBEARER sessions on SASL_PLAINTEXT end with the token (at most a minute): clients must re-authenticate.
    brokerConfig: { 'listener.name.sasl_plaintext.oauthbearer.connections.max.reauth.ms': 60_000 },
  })
  plain = new Kafka({ clientId: 'security-test', brokers: kafka.security!.brokers.plaintext, logLevel: logLevel.NOTHING })
})

afterAll(async () => {
  await kafka?.stop()
})

function conn(listener: SecureListener, mechanism?: TestSaslMechanism): TestConnection {
  return kafka.security!.connection(listener, mechanism)
}

/** Highest offset + 1 of partition 0, read over the plaintext listener. */
async function highWatermark(topic: string): Promise<number> {
  const admin = plain.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return Number(offsets[0]?.high ?? 0)
  } finally {
    await admin.disconnect()
  }
}

const MATRIX: [string, SecureListener, TestSaslMechanism?][] = [
  ['SASL_PLAINTEXT with PLAIN', 'sasl-plaintext', 'plain'],
  ['SASL_PLAINTEXT with SCRAM-SHA-256', 'sasl-plaintext', 'scram-sha-256'],
  ['SASL_PLAINTEXT with SCRAM-SHA-512', 'sasl-plaintext', 'scram-sha-512'],
  ['SASL_PLAINTEXT with OAUTHBEARER', 'sasl-plaintext', 'oauthbearer'],
  ['SSL (server authentication)', 'ssl'],
  ['SSL with a client certificate (mutual TLS)', 'mtls'],
  ['SASL_SSL with SCRAM-SHA-512', 'sasl-ssl', 'scram-sha-512'],
]

describe('every client kind over every listener kind', () => {
  it.each(MATRIX)('%s: admin, producer, consumer with its dead-letter producer, pipeline', async (_name, listener, mechanism) => {
    const c = conn(listener, mechanism)
    const [input, output, dlq] = [uniqueName('sec-in'), uniqueName('sec-out'), uniqueName('sec-dlq')]
    const admin = createAdmin({ ...c, logger })
    try {
      for (const name of [input, output, dlq]) expect(await admin.ensureTopic({ name, partitions: 1, replicationFactor: 1 })).toEqual({ created: true })
    } finally {
      await admin.disconnect()
    }

    const producer = createProducer({ ...c, logger, lingerMs: 0 })
    await producer.connect()
    for (const value of ['a', 'poison', 'c']) await producer.send({ topic: input, key: value, value })
    healthReports.push(JSON.stringify(producer.health()))
    await producer.disconnect()

    const seen: string[] = []
    const consumer = createConsumer({ ...c, logger, groupId: uniqueName('sec-g'), topics: [input], autoOffsetReset: 'earliest', retry: { attempts: 0, backoffMs: 0 }, deadLetterTopic: dlq, ...fast })
    await consumer.connect()
    try {
      await consumer.run({
        eachMessage: async ({ value }) => {
          if (value === 'poison') throw new Error('poison record')
          seen.push(value ?? '')
        },
      })
      await waitFor(() => seen.length === 2 && consumer.metrics().deadLettered === 1, 60_000)
      healthReports.push(JSON.stringify(consumer.health()))
    } finally {
      await consumer.disconnect()
    }
    expect(seen).toEqual(['a', 'c'])
    expect(await highWatermark(dlq)).toBe(1)

    const pipeline = createPipeline({
      ...c,
      logger,
      groupId: uniqueName('sec-p'),
      from: input,
      to: output,
      // Exactly-once: transactions (InitProducerId, AddPartitionsToTxn, TxnOffsetCommit) over the listener too.
      transactionalIdPrefix: uniqueName('sec-tx'),
      consumer: { autoOffsetReset: 'earliest', ...fast },
      transform: async (m) => ({ key: m.key, value: (m.value ?? '').toUpperCase() }),
    })
    await pipeline.run()
    try {
      await waitFor(() => pipeline.metrics().outputRecords === 3 && pipeline.metrics().transactionsCommitted > 0, 60_000)
      healthReports.push(JSON.stringify(pipeline.health()))
    } finally {
      await pipeline.stop()
    }
    // Three records and the commit marker(s) of the transaction(s) that wrote them.
    expect(await highWatermark(output)).toBeGreaterThan(3)
  })
})

/** SASL/PLAIN written by hand as a kafkajs authenticationProvider: the path AWS MSK IAM plugins take. */
function handMadePlain(username: string, password: string): Mechanism['authenticationProvider'] {
  return ({ saslAuthenticate }) => ({
    authenticate: async () => {
      const payload = Buffer.from(`\u0000${username}\u0000${password}`)
      const bytes = Buffer.alloc(4 + payload.length)
      bytes.writeInt32BE(payload.length, 0)
      payload.copy(bytes, 4)
      await saslAuthenticate({ request: { encode: () => bytes } })
    },
  })
}

describe('custom mechanisms and token refresh', () => {
  it('a custom authenticationProvider: producer and admin work; a wrong password is AUTHENTICATION', async () => {
    const { username, password } = kafka.security!.users.plain
    const brokers = conn('sasl-plaintext', 'plain').brokers
    const sasl = { mechanism: 'PLAIN', authenticationProvider: handMadePlain(username, password) }
    const topic = uniqueName('sec-custom')
    const admin = createAdmin({ brokers, sasl, logger })
    expect(await admin.ensureTopic({ name: topic, partitions: 1, replicationFactor: 1 })).toEqual({ created: true })
    await admin.disconnect()
    const producer = createProducer({ brokers, sasl, logger })
    await producer.connect()
    expect((await producer.send({ topic, value: 'custom' })).offset).toBe('0')
    await producer.disconnect()
    await expectFastFailure({ brokers, sasl: { mechanism: 'PLAIN', authenticationProvider: handMadePlain(username, 'wrong-password') } }, 'AUTHENTICATION')
  })

  it('OAUTHBEARER: tokens that live 6 s are refreshed before they expire while a producer keeps sending', async () => {
    const issued: string[] = []
    const oauthBearerProvider = async (): Promise<{ value: string }> => {
      const value = unsecuredJws('kafkatune-refresh', 6000)
      issued.push(value)
      return { value }
    }
    const topic = uniqueName('sec-oauth')
    const producer = createProducer({ ...conn('sasl-plaintext', 'oauthbearer'), sasl: { mechanism: 'oauthbearer', oauthBearerProvider }, logger, lingerMs: 0,
      // kafkajs re-authenticates 10 s before a session ends by default: longer than these test sessions.
      kafkajs: { reauthenticationThreshold: 1000 },
    })
    await producer.connect()
    const started = Date.now()
    let sent = 0
    while (Date.now() - started < 9000) {
      await producer.send({ topic, value: `v${sent}` })
      sent++
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await producer.disconnect()
    expect(await highWatermark(topic)).toBe(sent)
    // A token every 4.8 s (80% of 6 s): the broker would have refused the first one after 6 s.
    expect(issued.length).toBeGreaterThanOrEqual(2)
    tokens.push(...issued)
  })
})

/** Connects a producer, a consumer, an admin and a pipeline with `c`; each must fail with `code` within `withinMs`. */
async function expectFastFailure(c: Pick<ConnectionOptions, 'brokers' | 'ssl' | 'sasl'>, code: 'AUTHENTICATION' | 'TLS', withinMs = 5000): Promise<void> {
  const attempts: [string, () => Promise<unknown>][] = [
    ['producer', () => createProducer({ ...c, logger }).connect()],
    ['consumer', () => createConsumer({ ...c, logger, groupId: uniqueName('sec-bad'), topics: ['never-created'] }).connect()],
    ['admin', () => createAdmin({ ...c, logger }).connect()],
    [
      'pipeline',
      () =>
        createPipeline({ ...c, logger, groupId: uniqueName('sec-bad'), from: 'never-created', to: 'never-either', transactionalIdPrefix: uniqueName('sec-bad'), transform: async (m) => ({ value: m.value }) }).run(),
    ],
  ]
  for (const [kind, attempt] of attempts) {
    const started = Date.now()
    const err = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    )
    const took = Date.now() - started
    expect(isKafkatuneError(err), `${kind}: ${String(err)}`).toBe(true)
    const e = err as KafkatuneError
    errorMessages.push(e.message)
    errorDumps.push(inspect(e, { depth: 6 }))
    expect(e.code, `${kind}: ${e.message}`).toBe(code)
    expect(e.retriable).toBe(false)
    expect(took, `${kind} took ${took} ms`).toBeLessThan(withinMs)
  }
}

describe('mistakes fail fast with a typed error', () => {
  it('a wrong PLAIN password: AUTHENTICATION, naming what to check', async () => {
    const c = conn('sasl-plaintext', 'plain')
    await expectFastFailure({ ...c, sasl: { mechanism: 'plain', username: kafka.security!.users.plain.username, password: 'wrong-password' } }, 'AUTHENTICATION')
    expect(errorMessages.at(-1)).toMatch(/sasl\.username and sasl\.password/)
  })

  it('a wrong SCRAM-SHA-512 password over SASL_SSL: AUTHENTICATION', async () => {
    const c = conn('sasl-ssl', 'scram-sha-512')
    await expectFastFailure({ ...c, sasl: { mechanism: 'scram-sha-512', username: kafka.security!.users.scram.username, password: 'wrong-password' } }, 'AUTHENTICATION')
  })

  it('SASL against the plaintext listener, and a mechanism the broker does not offer: AUTHENTICATION', async () => {
    await expectFastFailure({ brokers: kafka.security!.brokers.plaintext, sasl: conn('sasl-plaintext', 'scram-sha-256').sasl }, 'AUTHENTICATION')
    expect(errorMessages.at(-1)).toMatch(/did not expect SASL here/)
    const unknown = { mechanism: 'GSSAPI', authenticationProvider: handMadePlain('u', 'wrong-password') }
    await expectFastFailure({ brokers: conn('sasl-plaintext', 'plain').brokers, sasl: unknown }, 'AUTHENTICATION')
    expect(errorMessages.at(-1)).toMatch(/does not enable SASL GSSAPI/)
  })

  it('an untrusted broker certificate (system CAs only): TLS', async () => {
    await expectFastFailure({ brokers: conn('ssl').brokers, ssl: {} }, 'TLS')
    expect(errorMessages.at(-1)).toMatch(/not trusted.*ssl\.ca/)
  })

  it('a hostname the certificate does not name: TLS (verification stays on)', async () => {
    const c = conn('ssl')
    await expectFastFailure({ ...c, ssl: { ...c.ssl!, servername: 'kafka.wrong.invalid' } }, 'TLS')
    expect(errorMessages.at(-1)).toMatch(/does not name the host/)
  })

  it('TLS against a plaintext port: TLS', async () => {
    await expectFastFailure({ brokers: kafka.security!.brokers.plaintext, ssl: conn('ssl').ssl! }, 'TLS')
    expect(errorMessages.at(-1)).toMatch(/is .* a TLS listener/)
  })

  it('plaintext against a TLS port: TLS', async () => {
    await expectFastFailure({ brokers: conn('ssl').brokers }, 'TLS')
    expect(errorMessages.at(-1)).toMatch(/answered with TLS/)
  })

  it('no client certificate on a mutual-TLS listener: TLS', async () => {
    await expectFastFailure({ ...conn('mtls'), ssl: { ca: conn('ssl').ssl!.ca } }, 'TLS')
    expect(errorMessages.at(-1)).toMatch(/client certificate/)
  })
})

describe('secrets', () => {
  it('no password, token or private key in any log line (pino and the console adapter at trace), error (inspected whole) or health report', () => {
    const s = kafka.security!
    const keyBody = s.clientKey
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('-----'))
      .join('')
    const secrets = [s.users.plain.password, s.users.scram.password, 'wrong-password', ...s.tokensIssued, ...tokens, keyBody.slice(0, 40), keyBody.slice(-40)]
    expect(s.tokensIssued.length).toBeGreaterThan(0)
    // The log really was at trace: kafkajs debug lines and kafkatune's own lines are there.
    expect(lines.length).toBeGreaterThan(100)
    expect(lines.some((l) => l.includes('"level":20') && l.includes('kafkajs'))).toBe(true)
    expect(errorMessages.length).toBe(40)
    // The adapter saw the same calls: kafkajs's lines and each client's own, with their clientId.
    expect(adapterLines.length).toBeGreaterThan(100)
    for (const component of ['kafkajs', 'kafkatune.consumer', 'kafkatune.pipeline']) {
      expect(adapterLines.some((l) => l.includes(`"component":"${component}","clientId":"`)), component).toBe(true)
    }
    expect(errorDumps.length).toBe(40)
    expect(healthReports.length).toBe(MATRIX.length * 3)
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10)
      expect(lines.filter((l) => l.includes(secret))).toEqual([])
      expect(adapterLines.filter((l) => l.includes(secret))).toEqual([])
      expect(errorMessages.filter((m) => m.includes(secret))).toEqual([])
      expect(errorDumps.filter((m) => m.includes(secret))).toEqual([])
      expect(healthReports.filter((m) => m.includes(secret))).toEqual([])
    }
  })
})
